package dev.vigil.triage.messaging;

import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.DeadLetterReason;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends a crash report triage cannot read to the shared dead-letter topic with its original key, value and
 * headers plus the reason and where it came from, awaiting the broker's ack before the source offset moves on.
 */
@ApplicationScoped
public class DeadLetterPublisher {

    private final MutinyEmitter<byte[]> deadLetter;
    private final String consumerGroup;

    /** The consumer group stamped on a dead letter is the one the crash-report channel consumes as. */
    DeadLetterPublisher(
            @Channel("dead-letter") MutinyEmitter<byte[]> deadLetter,
            @ConfigProperty(name = "mp.messaging.incoming.crash-reported.group.id") String consumerGroup) {
        this.deadLetter = deadLetter;
        this.consumerGroup = consumerGroup;
    }

    void send(ConsumerRecord<byte[], byte[]> record, DeadLetterReason reason, String detail) {
        RecordHeaders headers = DeadLetterHeaders.of(record, reason, detail, consumerGroup);
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        deadLetter.sendMessageAndAwait(Message.of(record.value() == null ? new byte[0] : record.value())
                .addMetadata(metadata));
    }
}
