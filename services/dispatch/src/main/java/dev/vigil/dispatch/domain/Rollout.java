package dev.vigil.dispatch.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A staged rollout of a release to a channel: stages as shares of the channel's enrolled hosts, the exposure and
 * time each stage needs before it is judged, and the rate test that halts it.
 */
public record Rollout(
        UUID id,
        String product,
        String release,
        String previousRelease,
        String channel,
        List<Integer> stages,
        int stage,
        RolloutState state,
        double minVmHours,
        Duration minStageDuration,
        double minRateRatio,
        double significance,
        boolean rollbackOnHalt,
        String createdBy,
        Instant createdAt,
        Instant stageStartedAt,
        Instant updatedAt) {

    /** The share of hosts the current stage (from 1) includes. */
    public int percent() {
        return stages.get(stage - 1);
    }

    public boolean lastStage() {
        return stage == stages.size();
    }
}
