package dev.vigil.agent;

import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.Topic;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads a topic from the beginning, for assertions on what the agent published. */
public final class TopicReader<T extends SpecificRecord> implements AutoCloseable {

    private final KafkaConsumer<String, byte[]> consumer;
    private final Class<T> type;
    private final List<ConsumerRecord<String, byte[]>> records = new CopyOnWriteArrayList<>();

    public TopicReader(Endpoints endpoints, Topic topic, Class<T> type) {
        this.type = type;
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(topic.name()));
    }

    /** Polls once and returns every record read so far, decoded. */
    public List<T> poll() {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        return records.stream().map(r -> EventCodec.of(type).decode(r.value())).toList();
    }

    public List<ConsumerRecord<String, byte[]>> raw() {
        return records;
    }

    @Override
    public void close() {
        consumer.close();
    }
}
