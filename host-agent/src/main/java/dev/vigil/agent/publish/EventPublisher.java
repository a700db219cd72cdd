package dev.vigil.agent.publish;

import dev.vigil.schemas.EventSerializer;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/** Publishes agent events to {@code vigil.agent.events.v1} with an idempotent, {@code acks=all} producer. */
public final class EventPublisher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EventPublisher.class.getName());

    private final KafkaProducer<String, AgentEvent> producer;
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    public EventPublisher(String bootstrapServers, String clientId) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new EventSerializer<>(AgentEvent.class));
    }

    /** Sends one event keyed by {@code key}; the future completes when the broker has it. */
    public Future<RecordMetadata> publish(String key, AgentEvent event) {
        return producer.send(new ProducerRecord<>(TopicCatalog.AGENT_EVENTS.name(), key, event), (metadata, error) -> {
            if (error == null) {
                published.incrementAndGet();
            } else {
                failed.incrementAndGet();
                LOG.log(
                        System.Logger.Level.WARNING,
                        "event " + event.getEnvelope().getEventId() + " was not published: " + error.getMessage());
            }
        });
    }

    public long publishedCount() {
        return published.get();
    }

    public long failedCount() {
        return failed.get();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
