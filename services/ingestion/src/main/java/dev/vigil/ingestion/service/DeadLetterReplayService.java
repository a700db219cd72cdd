package dev.vigil.ingestion.service;

import dev.vigil.schemas.DeadLetterHeaders;
import dev.vigil.schemas.TopicCatalog;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Re-drives dead-lettered records after a fix (a new schema released, a tenant added, a limit raised): reads the
 * dead-letter topic up to its current end, and sends each matching record back to the topic it came from with its
 * original key, value and headers. Ingestion validates it again: fixed records are kept (once, by event id), the
 * rest return to the dead-letter topic with their new reason.
 */
@ApplicationScoped
public class DeadLetterReplayService {

    static final String REPLAYED_FROM = "vigil_replayed_from";
    private static final Duration POLL = Duration.ofMillis(500);

    private final String bootstrapServers;

    DeadLetterReplayService(@ConfigProperty(name = "kafka.bootstrap.servers") String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    /** What a replay did: records read, records sent back, and how many per reason. */
    public record Report(long scanned, long replayed, Map<String, Long> replayedByReason) {}

    /**
     * @param reason only records refused for this {@code DeadLetterReason} (null = any)
     * @param sourceTopic only records that came from this topic (null = any)
     * @param limit at most this many records are sent back
     */
    public Report replay(String reason, String sourceTopic, int limit) {
        String topic = TopicCatalog.INGESTION_DEAD_LETTER.name();
        long scanned = 0;
        long replayed = 0;
        Map<String, Long> byReason = new TreeMap<>();
        try (KafkaConsumer<byte[], byte[]> consumer = consumer();
                KafkaProducer<byte[], byte[]> producer = producer()) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (replayed < limit && !reachedEnd(consumer, end)) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL)) {
                    if (record.offset() >= end.get(new TopicPartition(record.topic(), record.partition()))) {
                        continue;
                    }
                    scanned++;
                    String recordReason = header(record, DeadLetterHeaders.REASON);
                    String from = header(record, DeadLetterHeaders.SOURCE_TOPIC);
                    if (from == null
                            || (reason != null && !reason.equals(recordReason))
                            || (sourceTopic != null && !sourceTopic.equals(from))
                            || replayed >= limit) {
                        continue;
                    }
                    ProducerRecord<byte[], byte[]> out = new ProducerRecord<>(from, record.key(), record.value());
                    for (Header h : record.headers()) {
                        if (!h.key().startsWith("vigil_dlq_")) {
                            out.headers().add(h);
                        }
                    }
                    out.headers()
                            .add(
                                    REPLAYED_FROM,
                                    (topic + "/" + record.partition() + "/" + record.offset())
                                            .getBytes(StandardCharsets.UTF_8));
                    producer.send(out);
                    replayed++;
                    byReason.merge(recordReason, 1L, Long::sum);
                }
            }
            producer.flush();
        }
        return new Report(scanned, replayed, byReason);
    }

    private static boolean reachedEnd(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "vigil-ingestion-replay-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }
}
