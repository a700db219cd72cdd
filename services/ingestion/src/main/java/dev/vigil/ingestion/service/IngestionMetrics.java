package dev.vigil.ingestion.service;

import dev.vigil.schemas.DeadLetterReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Every metric ingestion publishes, declared once; tags are bounded (a catalog topic, a reason). */
@ApplicationScoped
public class IngestionMetrics {

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

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

    void incidentOpened(String trigger) {
        tagged("vigil.ingestion.incidents.opened", "Incidents opened, by what opened them", "trigger", trigger)
                .increment();
    }

    void incidentCoalesced() {
        tagged(
                        "vigil.ingestion.incidents.coalesced",
                        "Trigger events that joined an open incident of the same kind on the same VM",
                        null,
                        null)
                .increment();
    }

    void lateArtifact() {
        tagged(
                        "vigil.ingestion.incidents.late.artifacts",
                        "Artifacts that arrived after their incident's crash report went out",
                        null,
                        null)
                .increment();
    }

    void crashReported(boolean complete) {
        tagged(
                        "vigil.ingestion.crash.reports",
                        "Crash reports published, complete or at their deadline",
                        "complete",
                        String.valueOf(complete))
                .increment();
    }

    /** From the agent's send (the record's timestamp) to the moment the record's transaction committed. */
    public void durable(String topic, long recordTimestampMillis) {
        long lag = System.currentTimeMillis() - recordTimestampMillis;
        if (recordTimestampMillis > 0 && lag >= 0) {
            timers.computeIfAbsent(
                            topic,
                            t -> Timer.builder("vigil.ingestion.publish.to.durable")
                                    .description("From a record's publish time to its commit in ingestion's database")
                                    .tag("topic", t)
                                    .publishPercentiles(0.5, 0.99)
                                    .publishPercentileHistogram()
                                    .register(registry))
                    .record(lag, TimeUnit.MILLISECONDS);
        }
    }

    private Counter tagged(String name, String description, String tag, String value) {
        return counters.computeIfAbsent(name + '|' + tag + '|' + value, k -> {
            Counter.Builder builder = Counter.builder(name).description(description);
            if (tag != null) {
                builder.tag(tag, value);
            }
            return builder.register(registry);
        });
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
