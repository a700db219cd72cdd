package dev.vigil.ingestion.messaging;

import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.crash.CrashReported;
import io.smallrye.context.api.CurrentThreadContext;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.context.ThreadContext;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Publishes a crash report to {@code vigil.crash.reported.v1}, keyed by VM UUID, with CloudEvents headers, and
 * returns only once the broker has acknowledged it (idempotent producer, {@code acks=all}).
 */
@ApplicationScoped
public class CrashReportPublisher {

    static final String CRASH_REPORTED = "crash-reported";

    private final MutinyEmitter<byte[]> reports;

    CrashReportPublisher(@Channel(CRASH_REPORTED) MutinyEmitter<byte[]> reports) {
        this.reports = reports;
    }

    /**
     * Called inside the transaction that marks the incident reported; that transaction is kept off the send, as in
     * {@link DeadLetterPublisher#sendAll}.
     */
    @CurrentThreadContext(cleared = ThreadContext.TRANSACTION)
    public void publish(CrashReported report) {
        RecordHeaders headers = new RecordHeaders();
        CloudEventHeaders.write(headers, report.getEnvelope());
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(report.getVm().getUuid().getBytes(StandardCharsets.UTF_8))
                .withHeaders(headers)
                .build();
        reports.sendMessageAndAwait(
                Message.of(EventCodec.of(CrashReported.class).encode(report)).addMetadata(metadata));
    }
}
