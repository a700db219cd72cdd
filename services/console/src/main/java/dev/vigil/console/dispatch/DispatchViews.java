package dev.vigil.console.dispatch;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What the console reads of dispatch's answers. */
public final class DispatchViews {

    private DispatchViews() {}

    /** A release as dispatch holds it: the channel it is published to, and its state. */
    public record Release(
            String product,
            String release,
            String channel,
            String state,
            String notes,
            String publishedBy,
            Instant publishedAt) {}

    /** A staged rollout of a release to a channel; {@code decisions} only in the detail. */
    public record Rollout(
            String id,
            String product,
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
            Instant stageStartedAt,
            Instant updatedAt,
            List<Decision> decisions) {

        /** Whether {@code percent} is a stage already reached. */
        public boolean reached(int stagePercent) {
            return stagePercent <= percent;
        }
    }

    /** A decision of the rollout's gate or of an operator, and the release health it was taken on. */
    public record Decision(
            String kind,
            int stage,
            int percent,
            int hosts,
            String decidedBy,
            String reason,
            Map<String, Object> health,
            Instant decidedAt,
            Instant publishedAt) {}

    /** A signed command to an agent and what became of it. */
    public record Command(
            String id,
            String hostId,
            String vmUuid,
            String action,
            Map<String, String> arguments,
            long sequence,
            String state,
            String origin,
            String rolloutId,
            String issuedBy,
            Instant issuedAt,
            Instant expiresAt,
            Instant deliveredAt,
            Instant acknowledgedAt,
            Instant completedAt,
            String refusal,
            String message) {}
}
