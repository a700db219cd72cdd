package dev.vigil.agent.sampling;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Notices a VM that is running but makes no progress: its vCPU time has not moved for at least the threshold.
 * Reports each stall once; progress (or leaving the running state) ends the stall.
 */
final class HangTracker {

    private final Duration threshold;
    private final Map<String, Progress> byVm = new HashMap<>();

    HangTracker(Duration threshold) {
        this.threshold = threshold;
    }

    private static final class Progress {
        long cpuTime;
        Instant since;
        boolean reported;
    }

    /**
     * Feeds one observation.
     *
     * @return how long the VM has been stalled when this observation starts a hang report, else null
     */
    Duration observe(String vmUuid, boolean running, Long cpuTimeNanos, Instant now) {
        if (!running || cpuTimeNanos == null) {
            byVm.remove(vmUuid);
            return null;
        }
        Progress progress = byVm.get(vmUuid);
        if (progress == null || cpuTimeNanos != progress.cpuTime) {
            Progress fresh = new Progress();
            fresh.cpuTime = cpuTimeNanos;
            fresh.since = now;
            byVm.put(vmUuid, fresh);
            return null;
        }
        Duration stalled = Duration.between(progress.since, now);
        if (!progress.reported && stalled.compareTo(threshold) >= 0) {
            progress.reported = true;
            return stalled;
        }
        return null;
    }

    /** Forgets VMs that no longer exist. */
    void retain(Set<String> vmUuids) {
        byVm.keySet().retainAll(vmUuids);
    }
}
