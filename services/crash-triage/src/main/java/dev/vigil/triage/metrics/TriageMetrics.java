package dev.vigil.triage.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every metric crash triage publishes, declared once. A name keeps one set of tag keys (Prometheus drops a meter
 * whose keys differ from the first one registered under its name), with {@code none} where a tag does not apply;
 * tag values are bounded (outcomes, evidence kinds, reasons, dump policies, verdict kinds).
 */
@ApplicationScoped
public class TriageMetrics {

    private static final String NONE = "none";

    private final MeterRegistry registry;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();

    TriageMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** A report filed, filed provisionally, or refined by its evidence ({@code outcome}), by its evidence kind. */
    public void reportFiled(String outcome, String evidence) {
        report(outcome, evidence, NONE).increment();
    }

    /** A report already stored (a redelivery, a replay): nothing changed. */
    public void reportDuplicate() {
        report("duplicate", NONE, NONE).increment();
    }

    /** A report sent to the dead-letter topic, with its reason. */
    public void reportDeadLettered(String reason) {
        report("dead-lettered", NONE, reason).increment();
    }

    /** A report whose filing failed and is tried again. */
    public void reportRetried() {
        counter("vigil.triage.reports.retries", "Filings of a report tried again after a failure")
                .increment();
    }

    public void bucketCreated() {
        counter("vigil.triage.buckets.created", "Buckets made by their first report")
                .increment();
    }

    /** A collection policy request published, by the dump policy it asks for. */
    public void collectionRequested(String dump) {
        counter("vigil.triage.collection.requests", "Collection policy requests published", "dump", dump)
                .increment();
    }

    /** A regression verdict published, by its kind. */
    public void regression(String kind) {
        counter("vigil.triage.regressions", "Regression verdicts published", "kind", kind)
                .increment();
    }

    public void outboxRelayed(int events) {
        counter("vigil.triage.outbox.relayed", "Triage events relayed from the outbox to Kafka")
                .increment(events);
    }

    public void outboxFailed() {
        counter("vigil.triage.outbox.failures", "Outbox relays that failed (the sweep tries again)")
                .increment();
    }

    private Counter report(String outcome, String evidence, String reason) {
        return counter(
                "vigil.triage.reports",
                "Crash reports by what became of them",
                "outcome",
                outcome,
                "evidence",
                evidence,
                "reason",
                reason);
    }

    private Counter counter(String name, String description, String... tags) {
        return counters.computeIfAbsent(
                name + '|' + String.join("|", tags),
                k -> Counter.builder(name).description(description).tags(tags).register(registry));
    }
}
