package dev.vigil.agent.sampling;

import dev.vigil.agent.AgentMetrics;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.hypervisor.DomainStats;
import dev.vigil.agent.hypervisor.DomainStatsReader;
import dev.vigil.agent.hypervisor.DomainWatcher;
import dev.vigil.agent.hypervisor.GuestAgent;
import dev.vigil.agent.hypervisor.Screenshots;
import dev.vigil.agent.mapping.AgentEventMapper;
import dev.vigil.agent.spool.EventCapture;
import dev.vigil.agent.spool.Lane;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.HangDetector;
import dev.vigil.schemas.agent.HostPowerSample;
import dev.vigil.schemas.agent.VmSample;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.libvirt.LibvirtException;

/**
 * Each period: one all-domain statistics call for every VM plus the host's power state, spooled as one
 * {@code AgentSamples} record (samples lane); a VM whose vCPU time stays flat while running yields a hang event
 * (evidence lane).
 */
public final class Sampler {

    private static final System.Logger LOG = System.getLogger(Sampler.class.getName());

    private final AgentConfig config;
    private final AgentEventMapper mapper;
    private final EventCapture capture;
    private final AgentMetrics metrics;
    private final Supplier<DomainWatcher> watcher;
    private final HostPowerReader power;
    private final HangTracker hangs;
    private final FrameWatch frames;
    private final Map<String, long[]> cpuAtFrameCheck = new HashMap<>();
    private Instant lastFrameCheck;

    public Sampler(
            AgentConfig config,
            AgentEventMapper mapper,
            EventCapture capture,
            AgentMetrics metrics,
            Supplier<DomainWatcher> watcher) {
        this.config = config;
        this.mapper = mapper;
        this.capture = capture;
        this.metrics = metrics;
        this.watcher = watcher;
        this.power = new HostPowerReader(config.sysfsRoot(), config.procfsRoot());
        this.hangs = new HangTracker(config.hangAfter());
        this.frames = new FrameWatch(config.hangAfter());
    }

    /** Samples once; never throws (a failed tick is logged and the next one tries again). */
    public void sampleOnce() {
        long started = System.nanoTime();
        try {
            Instant now = Instant.now();
            DomainWatcher current = watcher.get();
            List<DomainStats> stats = new DomainStatsReader(current.connection()).read();
            List<VmSample> vms = new ArrayList<>(stats.size());
            Set<String> seen = new HashSet<>();
            for (DomainStats domain : stats) {
                VmSample sample = VmSampleMapper.toSample(domain, mapper.vmRef(domain.vmUuid(), domain.vmName()));
                vms.add(sample);
                seen.add(domain.vmUuid());
                Duration stalled = hangs.observe(
                        domain.vmUuid(), "RUNNING".equals(sample.getState()), sample.getCpuTimeNanos(), now);
                if (stalled != null) {
                    AgentEvent hang = mapper.hang(
                            domain.vmUuid(),
                            domain.vmName(),
                            HangDetector.VCPU_FLAT,
                            stalled.toMillis(),
                            "vCPU time flat at " + sample.getCpuTimeNanos() + " ns while running");
                    capture.capture(Lane.EVIDENCE, TopicCatalog.AGENT_EVENTS, domain.vmUuid(), hang);
                    metrics.captured(Lane.EVIDENCE);
                    LOG.log(
                            System.Logger.Level.WARNING,
                            "VM " + domain.vmName() + " looks hung: vCPU time flat for " + stalled.toSeconds() + " s");
                }
            }
            hangs.retain(seen);
            if (!config.frameCheckPeriod().isZero()
                    && (lastFrameCheck == null || !now.isBefore(lastFrameCheck.plus(config.frameCheckPeriod())))) {
                lastFrameCheck = now;
                checkFrames(current, stats, vms, now);
            }
            HostPowerSample host = power.read();
            if (!host.getUnavailable().isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "host power sources not available here: " + host.getUnavailable());
            }
            AgentSamples samples = AgentSamples.newBuilder()
                    .setEnvelope(Envelopes.create(
                            AgentSamples.class, AgentSamples.getClassSchema(), mapper.source(), mapper.tenant(), now))
                    .setSampledAt(now)
                    .setPeriodMillis((int) config.samplePeriod().toMillis())
                    .setVms(vms)
                    .setHost(host)
                    .build();
            if (capture.capture(Lane.SAMPLES, TopicCatalog.AGENT_SAMPLES, config.hostId(), samples)) {
                metrics.captured(Lane.SAMPLES);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "sampling failed this tick: " + e.getMessage());
        } finally {
            metrics.sampled(Duration.ofNanos(System.nanoTime() - started));
        }
    }

    /** Screenshots only VMs whose vCPUs were busy since the last check, and feeds the frozen-screen detector. */
    private void checkFrames(DomainWatcher current, List<DomainStats> stats, List<VmSample> vms, Instant now)
            throws IOException {
        long nowNanos = System.nanoTime();
        Set<String> running = new HashSet<>();
        for (int i = 0; i < vms.size(); i++) {
            VmSample sample = vms.get(i);
            DomainStats domain = stats.get(i);
            if (!"RUNNING".equals(sample.getState()) || sample.getCpuTimeNanos() == null) {
                continue;
            }
            String uuid = domain.vmUuid();
            running.add(uuid);
            long[] previous = cpuAtFrameCheck.put(uuid, new long[] {sample.getCpuTimeNanos(), nowNanos});
            long vcpus = Math.max(1, firstNonNull(domain.number("vcpu.current"), domain.number("vcpu.maximum"), 1L));
            boolean busy = previous != null
                    && nowNanos > previous[1]
                    && (sample.getCpuTimeNanos() - previous[0]) / (double) ((nowNanos - previous[1]) * vcpus)
                            >= FrameWatch.BUSY;
            byte[] frame = busy ? frameHash(current, uuid) : null;
            Duration stalled = frames.observe(uuid, busy, frame, now);
            if (stalled != null && GuestAgent.answers(current.connection(), uuid)) {
                // A static screen over busy vCPUs, but the guest agent answers: alive (e.g. a compute job).
                frames.forget(uuid);
                LOG.log(
                        System.Logger.Level.DEBUG,
                        "VM " + domain.vmName() + " screen frozen but its guest agent answers");
                stalled = null;
            }
            if (stalled != null) {
                AgentEvent hang = mapper.hang(
                        uuid,
                        domain.vmName(),
                        HangDetector.FRAME_FROZEN,
                        stalled.toMillis(),
                        "vCPUs busy while the screen has not changed and the guest agent is silent");
                capture.capture(Lane.EVIDENCE, TopicCatalog.AGENT_EVENTS, uuid, hang);
                metrics.captured(Lane.EVIDENCE);
                LOG.log(
                        System.Logger.Level.WARNING,
                        "VM " + domain.vmName() + " looks hung: busy behind a frozen screen for " + stalled.toSeconds()
                                + " s");
            }
        }
        cpuAtFrameCheck.keySet().retainAll(running);
        frames.retain(running);
    }

    private static byte[] frameHash(DomainWatcher watcher, String uuid) {
        try {
            byte[] png = Screenshots.capture(
                    watcher.connection(), watcher.connection().domainLookupByUUIDString(uuid));
            return MessageDigest.getInstance("SHA-256").digest(png);
        } catch (LibvirtException | NoSuchAlgorithmException e) {
            return null;
        }
    }

    private static long firstNonNull(Long a, Long b, long fallback) {
        return a != null ? a : b != null ? b : fallback;
    }
}
