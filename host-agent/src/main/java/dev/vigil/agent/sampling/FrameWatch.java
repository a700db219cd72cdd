package dev.vigil.agent.sampling;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The second hang signal: a VM whose vCPUs stay busy while its screen does not change. Fed at each frame check
 * with whether the vCPUs were busy since the last check and, for busy VMs, a hash of the framebuffer; reports a
 * stall once when both have held for at least the threshold.
 */
final class FrameWatch {

    /** vCPU time per vCPU per wall second at or above which a VM counts as busy. */
    static final double BUSY = 0.9;

    private final Duration threshold;
    private final Map<String, State> byVm = new HashMap<>();

    FrameWatch(Duration threshold) {
        this.threshold = threshold;
    }

    private static final class State {
        byte[] frame;
        Instant frozenSince;
        boolean reported;
    }

    /**
     * Feeds one check.
     *
     * @param frameHash the framebuffer's hash, or null when the VM was not busy (no screenshot taken)
     * @return how long the VM has been busy behind a frozen screen, when this check starts a hang report; else null
     */
    Duration observe(String vmUuid, boolean busy, byte[] frameHash, Instant now) {
        State state = byVm.computeIfAbsent(vmUuid, k -> new State());
        if (!busy || frameHash == null) {
            byVm.remove(vmUuid);
            return null;
        }
        if (state.frame == null || !Arrays.equals(frameHash, state.frame)) {
            state.frame = frameHash;
            state.frozenSince = now;
            state.reported = false;
            return null;
        }
        Duration stalled = Duration.between(state.frozenSince, now);
        if (!state.reported && stalled.compareTo(threshold) >= 0) {
            state.reported = true;
            return stalled;
        }
        return null;
    }

    /** Starts the VM's episode over (the guest proved alive another way). */
    void forget(String vmUuid) {
        byVm.remove(vmUuid);
    }

    /** Forgets VMs that no longer exist. */
    void retain(Set<String> vmUuids) {
        byVm.keySet().retainAll(vmUuids);
    }
}
