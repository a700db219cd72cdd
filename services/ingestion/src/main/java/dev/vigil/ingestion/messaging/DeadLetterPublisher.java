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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.eclipse.microprofile.config.Config;
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
    private static final String INCOMING = "mp.messaging.incoming.";
    private static final String TOPIC = ".topic";
    /** Below the emitter's buffer (256) and the sink's in-flight limit. */
    static final int IN_FLIGHT = 200;

    private final MutinyEmitter<byte[]> deadLetter;
    /** Each consumed topic's consumer group, as configured (a group per topic: application.properties). */
    private final Map<String, String> groups;

    DeadLetterPublisher(@Channel(DEAD_LETTER) MutinyEmitter<byte[]> deadLetter, Config config) {
        this.deadLetter = deadLetter;
        this.groups = consumerGroups(config);
    }

    /** Topic to consumer group, from each incoming channel's {@code topic} and {@code group.id}. */
    static Map<String, String> consumerGroups(Config config) {
        Map<String, String> groups = new HashMap<>();
        for (String name : config.getPropertyNames()) {
            if (name.startsWith(INCOMING) && name.endsWith(TOPIC)) {
                String channel = name.substring(INCOMING.length(), name.length() - TOPIC.length());
                config.getOptionalValue(INCOMING + channel + ".group.id", String.class)
                        .ifPresent(group -> groups.put(config.getValue(name, String.class), group));
            }
        }
        return Map.copyOf(groups);
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

    private Message<byte[]> message(ConsumerRecord<byte[], byte[]> record, Rejection rejection) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        header(headers, DeadLetterHeaders.REASON, rejection.reason());
        header(headers, DeadLetterHeaders.DETAIL, rejection.detail());
        header(headers, DeadLetterHeaders.SOURCE_TOPIC, record.topic());
        header(headers, DeadLetterHeaders.SOURCE_PARTITION, String.valueOf(record.partition()));
        header(headers, DeadLetterHeaders.SOURCE_OFFSET, String.valueOf(record.offset()));
        header(headers, DeadLetterHeaders.CONSUMER, groups.getOrDefault(record.topic(), ""));
        OutgoingKafkaRecordMetadata<byte[]> metadata = OutgoingKafkaRecordMetadata.<byte[]>builder()
                .withKey(record.key())
                .withHeaders(headers)
                .build();
        return Message.of(record.value() == null ? new byte[0] : record.value()).addMetadata(metadata);
    }

    private static void header(RecordHeaders headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
