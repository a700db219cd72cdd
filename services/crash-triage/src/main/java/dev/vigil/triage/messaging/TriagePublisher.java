package dev.vigil.triage.messaging;

import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.crash.CrashTriaged;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
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
