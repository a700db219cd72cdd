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
    private final Map<String, Timer> batchTimers = new ConcurrentHashMap<>();
    /**
     * The meters every record of a topic touches, found with one lookup by the topic's name (a string whose hash is
     * cached): building a key of name and tags for each record cost more than the counting.
     */
    private final Map<String, TopicMeters> topics = new ConcurrentHashMap<>();

    private record TopicMeters(
            Counter consumed,
            Counter stored,
            Counter duplicate,
            Timer durable,
            Timer delivery,
            Timer processing,
            Timer commit) {}

    IngestionMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void consumed(String topic) {
        consumed(topic, 1);
    }

    void consumed(String topic, int records) {
        meters(topic).consumed().increment(records);
    }

    void stored(String topic) {
        stored(topic, 1);
    }

    void stored(String topic, int records) {
        meters(topic).stored().increment(records);
    }

    void duplicate(String topic) {
        duplicate(topic, 1);
    }

    void duplicate(String topic, int records) {
        meters(topic).duplicate().increment(records);
    }

    private TopicMeters meters(String topic) {
        TopicMeters meters = topics.get(topic);
        return meters != null ? meters : topics.computeIfAbsent(topic, this::register);
    }

    private TopicMeters register(String topic) {
        return new TopicMeters(
                counter("vigil.ingestion.events.consumed", "Records read from an agent topic", "topic", topic),
                counter("vigil.ingestion.events.stored", "Records kept for the first time", "topic", topic),
                counter(
                        "vigil.ingestion.events.duplicate",
                        "Records whose event id was already kept; acknowledged and dropped",
                        "topic",
                        topic),
                Timer.builder("vigil.ingestion.publish.to.durable")
                        .description("From a record's publish time to its commit in ingestion's database")
                        .tag("topic", topic)
                        .publishPercentiles(0.5, 0.99)
                        .publishPercentileHistogram()
                        .register(registry),
                stage(topic, "delivery"),
                stage(topic, "processing"),
                stage(topic, "commit"));
    }

    private Timer stage(String topic, String stage) {
        return Timer.builder("vigil.ingestion.publish.to.durable.stage")
                .description("A part of publish-to-durable, per record: delivery (from the publish to its batch in a"
                        + " worker's hands), processing (the batch's work in its transaction), commit")
                .tag("topic", topic)
                .tag("stage", stage)
                .publishPercentileHistogram()
                .register(registry);
    }

    /** Counts a record sent to the dead-letter topic, whoever refused it. */
    public void rejected(String topic, DeadLetterReason reason) {
        counter(
                        "vigil.ingestion.events.rejected",
                        "Records sent to the dead-letter topic",
                        "topic",
                        topic,
                        "reason",
                        reason.name())
                .increment();
    }

    void incidentOpened(String trigger) {
        counter("vigil.ingestion.incidents.opened", "Incidents opened, by what opened them", "trigger", trigger)
                .increment();
    }

    void incidentCoalesced() {
        counter(
                        "vigil.ingestion.incidents.coalesced",
                        "Trigger events that joined an open incident of the same kind on the same VM")
                .increment();
    }

    void lateArtifact() {
        counter(
                        "vigil.ingestion.incidents.late.artifacts",
                        "Artifacts that arrived after their incident's crash report went out")
                .increment();
    }

    void crashReportedProvisionally() {
        counter(
                        "vigil.ingestion.crash.reports.provisional",
                        "Provisional crash reports published on a trigger alone, before the evidence")
                .increment();
    }

    void crashReported(boolean complete) {
        counter(
                        "vigil.ingestion.crash.reports",
                        "Crash reports published, complete or at their deadline",
                        "complete",
                        String.valueOf(complete))
                .increment();
    }

    /**
     * Where a committed batch's publish-to-durable time went, for each of its records: delivery, from the agent's send
     * to the batch in a worker's hands (the producer's linger, the broker, the consumer's fetch, the hand-off from the
     * polling thread); processing, the batch's work inside its transaction (dead letters' acknowledgements included);
     * and the commit.
     *
     * @param handedMillis wall-clock time the batch reached the worker
     */
    public void stages(
            String topic, long[] recordTimestampsMillis, long handedMillis, long processingNanos, long commitNanos) {
        TopicMeters meters = meters(topic);
        for (long timestamp : recordTimestampsMillis) {
            long lag = handedMillis - timestamp;
            if (timestamp > 0 && lag >= 0) {
                meters.delivery().record(lag, TimeUnit.MILLISECONDS);
            }
            meters.processing().record(processingNanos, TimeUnit.NANOSECONDS);
            meters.commit().record(commitNanos, TimeUnit.NANOSECONDS);
        }
    }

    /**
     * From the agent's send (each record's timestamp) to now, when the records' transaction has committed.
     *
     * @param recordTimestampsMillis the committed records' timestamps, all of {@code topic}
     */
    public void durable(String topic, long[] recordTimestampsMillis) {
        Timer durable = meters(topic).durable();
        long now = System.currentTimeMillis();
        for (long timestamp : recordTimestampsMillis) {
            long lag = now - timestamp;
            if (timestamp > 0 && lag >= 0) {
                durable.record(lag, TimeUnit.MILLISECONDS);
            }
        }
    }

    /**
     * One polled batch of a channel, from its first decode to its commit: with the wall clock, how busy a channel
     * is (a channel busy all the time sets the pace; one that is not waits for records).
     */
    public void batch(String topic, int records, long nanos) {
        batchTimers
                .computeIfAbsent(
                        topic,
                        t -> Timer.builder("vigil.ingestion.batch")
                                .description("Time to validate, store and commit one polled batch of a topic")
                                .tag("topic", t)
                                .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
        counter("vigil.ingestion.batch.records", "Records in the polled batches of a topic", "topic", topic)
                .increment(records);
    }

    /** One counter per name and tag values, registered on first use; {@code tags} are key, value pairs. */
    private Counter counter(String name, String description, String... tags) {
        return counters.computeIfAbsent(
                name + '|' + String.join("|", tags),
                k -> Counter.builder(name).description(description).tags(tags).register(registry));
    }
}
