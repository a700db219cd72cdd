package dev.vigil.agent;

import dev.vigil.agent.capture.ArtifactStage;
import dev.vigil.agent.capture.ArtifactUploader;
import dev.vigil.agent.capture.CaptureService;
import dev.vigil.agent.capture.RollingSnapshots;
import dev.vigil.agent.publish.SpoolPublisher;
import dev.vigil.agent.spool.Lane;
import dev.vigil.agent.spool.Spool;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Every metric the agent publishes on {@code /metrics}, declared once; tags are bounded enums. */
public final class AgentMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<Lane, Counter> captured = new EnumMap<>(Lane.class);
    private final Counter captureFailures;
    private final Counter feedback;
    private final Timer sampling;
    private final Map<String, Counter> commands = new ConcurrentHashMap<>();

    public AgentMetrics() {
        for (Lane lane : Lane.values()) {
            captured.put(
                    lane,
                    Counter.builder("vigil.agent.events.captured")
                            .description("Records made durable in the spool")
                            .tag("lane", lane.name())
                            .register(registry));
        }
        captureFailures = Counter.builder("vigil.agent.capture.failures")
                .description("Records the spool's disk refused")
                .register(registry);
        feedback = Counter.builder("vigil.agent.feedback.received")
                .description("User feedback records taken from the inbox")
                .register(registry);
        sampling = Timer.builder("vigil.agent.sampling.duration")
                .description("Time to sample every VM and the host once")
                .register(registry);
    }

    /** Exposes the spool's and the publisher's state. */
    public void bind(Spool spool, SpoolPublisher publisher) {
        for (Lane lane : Lane.values()) {
            Gauge.builder("vigil.agent.spool.bytes", spool, s -> s.bytes(lane))
                    .description("Bytes waiting in the spool")
                    .tag("lane", lane.name())
                    .register(registry);
        }
        FunctionCounter.builder("vigil.agent.spool.shed.records", spool, Spool::shedRecords)
                .description("Samples refused because the spool was full")
                .register(registry);
        FunctionCounter.builder("vigil.agent.spool.shed.bytes", spool, Spool::shedBytes)
                .description("Bytes of old samples deleted to make room")
                .register(registry);
        FunctionCounter.builder("vigil.agent.spool.dropped.bytes", spool, Spool::droppedBytes)
                .description("Bytes lost to torn or corrupt spool files found at start")
                .register(registry);
        FunctionCounter.builder("vigil.agent.published", publisher, SpoolPublisher::publishedCount)
                .description("Records acknowledged by Kafka")
                .register(registry);
        FunctionCounter.builder("vigil.agent.publish.failures", publisher, SpoolPublisher::failureCount)
                .description("Sends that failed and were retried from the spool")
                .register(registry);
    }

    /** Exposes crash capture and artifact upload. */
    public void bind(
            CaptureService captures, ArtifactUploader uploader, ArtifactStage stage, RollingSnapshots snapshots) {
        FunctionCounter.builder("vigil.agent.snapshots.taken", snapshots, RollingSnapshots::takenCount)
                .description("Periodic trusted snapshots taken")
                .register(registry);
        FunctionCounter.builder("vigil.agent.snapshots.pruned", snapshots, RollingSnapshots::prunedCount)
                .description("Old snapshots deleted (their overlays merged down the chain)")
                .register(registry);
        FunctionCounter.builder("vigil.agent.snapshots.failures", snapshots, RollingSnapshots::failureCount)
                .description("Periodic snapshots or prunings that failed")
                .register(registry);
        FunctionCounter.builder("vigil.agent.crash.captures", captures, CaptureService::captureCount)
                .description("Crash, hang, watchdog and I/O-error captures started")
                .register(registry);
        FunctionCounter.builder("vigil.agent.crash.capture.failed.steps", captures, CaptureService::failedStepCount)
                .description("Capture steps that failed or ran out of time (each capture's report says which)")
                .register(registry);
        FunctionCounter.builder("vigil.agent.artifacts.uploaded", uploader, ArtifactUploader::uploadedCount)
                .description("Artifacts stored and announced")
                .register(registry);
        FunctionCounter.builder("vigil.agent.artifacts.uploaded.bytes", uploader, ArtifactUploader::uploadedBytes)
                .description("Bytes sent to the object store (blobs already stored are not sent again)")
                .register(registry);
        FunctionCounter.builder("vigil.agent.artifacts.deduplicated", uploader, ArtifactUploader::deduplicatedCount)
                .description("Artifacts whose content the object store already had")
                .register(registry);
        FunctionCounter.builder("vigil.agent.artifacts.upload.failures", uploader, ArtifactUploader::failureCount)
                .description("Upload rounds that failed and will be retried")
                .register(registry);
        Gauge.builder("vigil.agent.artifacts.staged.bytes", stage, s -> {
                    try {
                        return s.bytes();
                    } catch (java.io.IOException e) {
                        return Double.NaN;
                    }
                })
                .description("Bytes of captured artifacts on this host awaiting upload")
                .register(registry);
    }

    public void captured(Lane lane) {
        captured.get(lane).increment();
    }

    public void captureFailed() {
        captureFailures.increment();
    }

    public void feedbackReceived() {
        feedback.increment();
    }

    public void sampled(Duration took) {
        sampling.record(took);
    }

    /** Counts a command outcome ({@code SUCCEEDED}, {@code FAILED}, {@code REFUSED}). */
    public void command(String status) {
        commands.computeIfAbsent(
                        status,
                        s -> Counter.builder("vigil.agent.commands")
                                .description("Commands by outcome")
                                .tag("status", s)
                                .register(registry))
                .increment();
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }
}
