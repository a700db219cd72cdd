package dev.vigil.console.dispatch;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What the console shows of dispatch's answers (the rest of each answer is not read). */
public final class DispatchViews {

    private DispatchViews() {}

    /** A release as dispatch holds it: the channel it is published to, and its state. */
    public record Release(String channel, String state, String notes, String publishedBy, Instant publishedAt) {}

    /** A staged rollout of a release to a channel; {@code decisions} only in the detail. */
    public record Rollout(
            String id,
            String release,
            String previousRelease,
            String channel,
            List<Integer> stages,
            int stage,
            int percent,
            String state,
            double minVmHours,
            String minStageDuration,
            double minRateRatio,
            double significance,
            boolean rollbackOnHalt,
            String createdBy,
            Instant createdAt,
            List<Decision> decisions) {

        /** Whether {@code percent} is a stage already reached. */
        public boolean reached(int stagePercent) {
            return stagePercent <= percent;
        }
    }

    /** A decision of the rollout's gate or of an operator, and why it was taken. */
    public record Decision(
            String kind, int stage, int percent, int hosts, String decidedBy, String reason, Instant decidedAt) {}

    /** A signed command to an agent and what became of it. */
    public record Command(
            String action,
            Map<String, String> arguments,
            String state,
            String origin,
            String issuedBy,
            Instant issuedAt,
            Instant completedAt,
            String refusal,
            String message) {}
}
