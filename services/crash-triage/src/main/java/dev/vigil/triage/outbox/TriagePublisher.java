package dev.vigil.triage.outbox;

import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.crash.CrashTriaged;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/** Publishes triage outcomes to {@code vigil.crash.triaged.v1}, keyed by bucket id, awaiting the broker's ack. */
@ApplicationScoped
public class TriagePublisher {

    private final MutinyEmitter<byte[]> triaged;

    TriagePublisher(@Channel("crash-triaged") MutinyEmitter<byte[]> triaged) {
        this.triaged = triaged;
    }

    /** The service's own events (regressions, collection requests) come from crash triage, for the vendor. */
    private static final Source SOURCE = Source.newBuilder()
            .setHostId("vigil-crash-triage")
            .setAgentId("vigil-crash-triage")
            .setAgentVersion("1")
            .build();

    static final String VENDOR_TENANT = "vendor";

    /**
     * The envelope of an outcome crash triage decides on its own, with an event id derived from {@code identity}: a
     * retried publish of the same outcome carries the same id, so consumers deduplicating by id see it once.
     */
    public static Envelope envelope(String identity, Instant occurredAt) {
        return Envelopes.create(
                CrashTriaged.class,
                CrashTriaged.getClassSchema(),
                SOURCE,
                VENDOR_TENANT,
                occurredAt,
                UUID.nameUUIDFromBytes(identity.getBytes(StandardCharsets.UTF_8))
                        .toString());
    }

    public void publish(CrashTriaged outcome) {
        RecordHeaders headers = new RecordHeaders();
        CloudEventHeaders.write(headers, outcome.getEnvelope());
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(outcome.getBucketId().toString().getBytes(StandardCharsets.UTF_8))
                .withHeaders(headers)
                .build();
        triaged.sendMessageAndAwait(
                Message.of(EventCodec.of(CrashTriaged.class).encode(outcome)).addMetadata(metadata));
    }
}
