package dev.vigil.dispatch;

import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Devstack;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.Topic;
import dev.vigil.schemas.common.Envelope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The devstack's topics as other services see them: records published as they publish, read from the start. */
final class Topics {

    private Topics() {}

    /**
     * Publishes a contract record as its producer would: single-object bytes, CloudEvents headers, and on an agent
     * topic the seal of the host its envelope names.
     */
    static <T extends SpecificRecord> void publish(Topic topic, String key, T record, Envelope envelope)
            throws Exception {
        publish(topic, key, record, envelope, null);
    }

    /** {@link #publish(Topic, String, SpecificRecord, Envelope)}, sealed with {@code sealAs} (another host's key). */
    @SuppressWarnings("unchecked")
    static <T extends SpecificRecord> void publish(
            Topic topic, String key, T record, Envelope envelope, RecordSeals.HostKey sealAs) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer =
                Devstack.shared().endpoints().agentProducer()) {
            RecordHeaders headers = new RecordHeaders();
            CloudEventHeaders.write(headers, envelope);
            byte[] value = EventCodec.of((Class<T>) record.getClass()).encode(record);
            if (sealAs != null) {
                RecordSeals.seal(sealAs, value, headers);
            }
            producer.send(new ProducerRecord<>(
                            topic.name(), null, key.getBytes(StandardCharsets.UTF_8), value, headers))
                    .get();
        }
    }

    /** Reads the topic from the start until {@code count} records match, within 30 s. */
    static List<ConsumerRecord<String, byte[]>> read(
            Topic topic, Predicate<ConsumerRecord<String, byte[]>> wanted, int count) {
        Properties props = new Properties();
        props.putAll(Devstack.shared().endpoints().kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic.name()));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(300)).forEach(r -> {
                    if (wanted.test(r)) {
                        found.add(r);
                    }
                });
                return found.size() >= count;
            });
        }
        return found;
    }
}
