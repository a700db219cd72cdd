package dev.vigil.ingestion.service;

import dev.vigil.schemas.DeadLetterReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Every metric ingestion publishes, declared once; tags are bounded (a catalog topic, a reason). */
@ApplicationScoped
public class IngestionMetrics {

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    IngestionMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void consumed(String topic) {
        counter("vigil.ingestion.events.consumed", "Records read from an agent topic", topic, null)
                .increment();
    }

    void stored(String topic) {
        counter("vigil.ingestion.events.stored", "Records kept for the first time", topic, null)
                .increment();
    }

    void duplicate(String topic) {
        counter(
                        "vigil.ingestion.events.duplicate",
                        "Records whose event id was already kept; acknowledged and dropped",
                        topic,
                        null)
                .increment();
    }

    void rejected(String topic, DeadLetterReason reason) {
        counter("vigil.ingestion.events.rejected", "Records sent to the dead-letter topic", topic, reason)
                .increment();
    }

    private Counter counter(String name, String description, String topic, DeadLetterReason reason) {
        return counters.computeIfAbsent(name + '|' + topic + '|' + reason, k -> {
            Counter.Builder builder =
                    Counter.builder(name).description(description).tag("topic", topic);
            if (reason != null) {
                builder.tag("reason", reason.name());
            }
            return builder.register(registry);
        });
    }
}
