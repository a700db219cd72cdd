package dev.vigil.dispatch.messaging;

import dev.vigil.dispatch.persistence.Database;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.common.Source;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * The transactional outbox of dispatch's events: what a transaction decided is written as rows beside its state, and
 * a sweep sends the rows still unpublished to their topic in order, marking each once the broker has it. A failed
 * send ends the sweep; the next one sends from there, so an event is never lost and may at worst be sent twice (its
 * event id is the same both times, which consumers recognize).
 */
public final class Outbox {

    /** The source of dispatch's own records. */
    public static final Source SOURCE = Source.newBuilder()
            .setHostId("vigil-dispatch")
            .setAgentId("vigil-dispatch")
            .setAgentVersion("1")
            .build();

    /** One row's record: its key and its event, whose envelope becomes the CloudEvents headers. */
    public record Outgoing(String key, SpecificRecord event, Envelope envelope) {}

    /** An outbox table: its unpublished rows, oldest first, how each becomes a record, and its published mark. */
    public interface Table<R> {
        List<R> unpublished(Connection c) throws SQLException;

        Outgoing outgoing(Connection c, R row) throws SQLException;

        void published(Connection c, R row, java.time.Instant at) throws SQLException;
    }

    private static final Logger LOG = Logger.getLogger(Outbox.class);

    private Outbox() {}

    /** Sends {@code table}'s unpublished rows through {@code emitter}; {@code what} names them in the log. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static <R> void sweep(Database db, MutinyEmitter<byte[]> emitter, Table<R> table, String what, Clock clock) {
        try {
            db.read(c -> {
                for (R row : table.unpublished(c)) {
                    Outgoing outgoing = table.outgoing(c, row);
                    RecordHeaders headers = new RecordHeaders();
                    CloudEventHeaders.write(headers, outgoing.envelope());
                    EventCodec codec = EventCodec.of(outgoing.event().getClass());
                    emitter.sendMessageAndAwait(Message.of(codec.encode(outgoing.event()))
                            .addMetadata(OutgoingKafkaRecordMetadata.<byte[]>builder()
                                    .withKey(outgoing.key().getBytes(StandardCharsets.UTF_8))
                                    .withHeaders(headers)
                                    .build()));
                    table.published(c, row, clock.instant());
                }
                return null;
            });
        } catch (RuntimeException e) {
            LOG.warnf("%s not published yet (%s); the next sweep sends them", what, e.getMessage());
        }
    }
}
