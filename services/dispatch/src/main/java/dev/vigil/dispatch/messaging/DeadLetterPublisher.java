package dev.vigil.dispatch.messaging;

import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.DeadLetterReason;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends a record dispatch cannot use to the shared dead-letter topic with its original key, value and headers plus
 * the reason and where it came from, awaiting the broker's ack before the source offset moves on.
 */
@ApplicationScoped
public class DeadLetterPublisher {

    private final MutinyEmitter<byte[]> deadLetter;

    DeadLetterPublisher(@Channel("dead-letter") MutinyEmitter<byte[]> deadLetter) {
        this.deadLetter = deadLetter;
    }

    void send(ConsumerRecord<byte[], byte[]> record, String consumer, DeadLetterReason reason, String detail) {
        RecordHeaders headers = DeadLetterHeaders.of(record, reason, detail, consumer);
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        deadLetter.sendMessageAndAwait(Message.of(record.value() == null ? new byte[0] : record.value())
                .addMetadata(metadata));
    }
}
