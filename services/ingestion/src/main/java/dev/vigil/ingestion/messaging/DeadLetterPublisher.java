package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.schemas.DeadLetterHeaders;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends a refused record to {@code vigil.ingestion.dead-letter.v1} with its original key, value and headers plus
 * the reason and where it came from, and waits for the broker's ack: the caller commits the source offset only
 * after that.
 */
@ApplicationScoped
public class DeadLetterPublisher {

    static final String DEAD_LETTER = "dead-letter";
    static final String CONSUMER_GROUP = "vigil-ingestion";

    private final MutinyEmitter<byte[]> deadLetter;

    DeadLetterPublisher(@Channel(DEAD_LETTER) MutinyEmitter<byte[]> deadLetter) {
        this.deadLetter = deadLetter;
    }

    void send(ConsumerRecord<byte[], byte[]> record, Rejection rejection) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        header(headers, DeadLetterHeaders.REASON, rejection.reason());
        header(headers, DeadLetterHeaders.DETAIL, rejection.detail());
        header(headers, DeadLetterHeaders.SOURCE_TOPIC, record.topic());
        header(headers, DeadLetterHeaders.SOURCE_PARTITION, String.valueOf(record.partition()));
        header(headers, DeadLetterHeaders.SOURCE_OFFSET, String.valueOf(record.offset()));
        header(headers, DeadLetterHeaders.CONSUMER, CONSUMER_GROUP);
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        deadLetter.sendMessageAndAwait(Message.of(record.value() == null ? new byte[0] : record.value())
                .addMetadata(metadata));
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
