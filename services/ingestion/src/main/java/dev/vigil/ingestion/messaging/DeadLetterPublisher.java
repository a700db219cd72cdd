package dev.vigil.ingestion.messaging;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.schemas.DeadLetterHeaders;
import io.smallrye.context.api.CurrentThreadContext;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.api.OutgoingKafkaRecordMetadata;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.context.ThreadContext;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * Sends refused records to {@code vigil.ingestion.dead-letter.v1} with their original key, value and headers plus
 * the reason and where they came from, and waits for the broker's acks: the caller commits the source offsets only
 * after that.
 */
@ApplicationScoped
public class DeadLetterPublisher {

    static final String DEAD_LETTER = "dead-letter";
    /** Each topic is read by its own consumer group: this prefix and the topic's name (application.properties). */
    static final String CONSUMER_GROUP_PREFIX = "vigil-ingestion.";
    /** Below the emitter's buffer (256) and the sink's in-flight limit. */
    static final int IN_FLIGHT = 200;

    private final MutinyEmitter<byte[]> deadLetter;

    DeadLetterPublisher(@Channel(DEAD_LETTER) MutinyEmitter<byte[]> deadLetter) {
        this.deadLetter = deadLetter;
    }

    /** A record refused with a reason. */
    record Refused(ConsumerRecord<byte[], byte[]> record, Rejection rejection) {}

    /**
     * Sends a batch's refused records and waits for all their acks. They are sent together, at most
     * {@link #IN_FLIGHT} at a time, in order: a batch full of refusals (an agent whose clock is a day off, say) costs
     * about one round trip to the broker per {@code IN_FLIGHT} records, not one per record.
     *
     * <p>Called inside the batch's transaction, which must not travel with the sends: context propagation would
     * otherwise make the Kafka producer's thread, which completes the acks, a second thread of that transaction, and
     * a commit racing it fails ("Enlisted connection used without active transaction") and stops the channel.
     */
    @CurrentThreadContext(cleared = ThreadContext.TRANSACTION)
    public void sendAll(List<Refused> refused) {
        for (int from = 0; from < refused.size(); from += IN_FLIGHT) {
            List<Uni<Void>> sends = refused.subList(from, Math.min(refused.size(), from + IN_FLIGHT)).stream()
                    .map(r -> deadLetter.sendMessage(message(r.record(), r.rejection())))
                    .toList();
            Uni.join().all(sends).andFailFast().await().indefinitely();
        }
    }

    /** The refused records of a batch, in order, from its records and their results (one per record). */
    static List<Refused> refused(List<ConsumerRecord<byte[], byte[]>> records, List<IngestionResult> results) {
        List<Refused> refused = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            if (results.get(i).outcome() == IngestionResult.Outcome.REJECTED) {
                refused.add(new Refused(records.get(i), results.get(i).rejection()));
            }
        }
        return refused;
    }

    private static Message<byte[]> message(ConsumerRecord<byte[], byte[]> record, Rejection rejection) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        header(headers, DeadLetterHeaders.REASON, rejection.reason());
        header(headers, DeadLetterHeaders.DETAIL, rejection.detail());
        header(headers, DeadLetterHeaders.SOURCE_TOPIC, record.topic());
        header(headers, DeadLetterHeaders.SOURCE_PARTITION, String.valueOf(record.partition()));
        header(headers, DeadLetterHeaders.SOURCE_OFFSET, String.valueOf(record.offset()));
        header(headers, DeadLetterHeaders.CONSUMER, consumerGroup(record.topic()));
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        return Message.of(record.value() == null ? new byte[0] : record.value()).addMetadata(metadata);
    }

    /** The consumer group that reads {@code topic}. */
    static String consumerGroup(String topic) {
        return CONSUMER_GROUP_PREFIX + topic;
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
