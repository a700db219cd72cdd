package dev.vigil.ingestion.service;

import dev.vigil.schemas.DeadLetterReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.EnumMap;
import java.util.Map;

/** Every metric ingestion publishes, declared once; tags are bounded (a topic, a reason). */
@ApplicationScoped
public class IngestionMetrics {

    private final Counter consumed;
    private final Counter stored;
    private final Counter duplicates;
    private final Map<DeadLetterReason, Counter> rejected = new EnumMap<>(DeadLetterReason.class);

    IngestionMetrics(MeterRegistry registry) {
        this.consumed = Counter.builder("vigil.ingestion.events.consumed")
                .description("Records read from vigil.agent.events.v1")
                .register(registry);
        this.stored = Counter.builder("vigil.ingestion.events.stored")
                .description("Events recorded for the first time")
                .register(registry);
        this.duplicates = Counter.builder("vigil.ingestion.events.duplicate")
                .description("Events whose id was already recorded; acknowledged and dropped")
                .register(registry);
        for (DeadLetterReason reason : DeadLetterReason.values()) {
            rejected.put(
                    reason,
                    Counter.builder("vigil.ingestion.events.rejected")
                            .description("Records sent to the dead-letter topic")
                            .tag("reason", reason.name())
                            .register(registry));
        }
    }

    void consumed() {
        consumed.increment();
    }

    void stored() {
        stored.increment();
    }

    void duplicate() {
        duplicates.increment();
    }

    void rejected(DeadLetterReason reason) {
        rejected.get(reason).increment();
    }
}
