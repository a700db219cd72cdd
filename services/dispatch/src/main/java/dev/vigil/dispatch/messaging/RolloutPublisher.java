package dev.vigil.dispatch.messaging;

import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.RolloutRepository;
import dev.vigil.dispatch.persistence.RolloutRepository.Decision;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.dispatch.RolloutDecisionKind;
import dev.vigil.schemas.dispatch.RolloutEvent;
import dev.vigil.schemas.dispatch.RolloutHealth;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.reactive.messaging.MutinyEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Publishes rollout decisions from their table (the outbox) to {@code vigil.dispatch.rollouts.v1}, keyed by rollout,
 * in decision order, each marked published once the broker has it. A decision's event id is its own id, so a repeat
 * after a failed mark is recognized downstream.
 */
@ApplicationScoped
public class RolloutPublisher implements Outbox.Table<Decision> {

    private final MutinyEmitter<byte[]> rollouts;
    private final Database db;
    private final Clock clock = Clock.systemUTC();

    RolloutPublisher(@Channel("rollouts") MutinyEmitter<byte[]> rollouts, Database db) {
        this.rollouts = rollouts;
        this.db = db;
    }

    /** Sends every unpublished decision; what fails is sent by the next call. */
    // Not before the messaging channels are connected at start.
    @Scheduled(
            every = "${vigil.dispatch.commands.sweep-every}",
            delayed = "3s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    public synchronized void publishPending() {
        Outbox.sweep(db, rollouts, this, "rollout decisions", clock);
    }

    @Override
    public List<Decision> unpublished(Connection c) throws SQLException {
        return RolloutRepository.unpublished(c);
    }

    @Override
    public Outbox.Outgoing outgoing(Connection c, Decision decision) throws SQLException {
        var rollout = RolloutRepository.find(c, decision.rollout(), false);
        RolloutEvent event = RolloutEvent.newBuilder()
                .setEnvelope(Envelopes.create(
                        RolloutEvent.class,
                        RolloutEvent.getClassSchema(),
                        Outbox.SOURCE,
                        "vendor",
                        decision.decidedAt(),
                        decision.id().toString()))
                .setRolloutId(rollout.id().toString())
                .setProduct(rollout.product())
                .setRelease(rollout.release())
                .setPreviousRelease(rollout.previousRelease())
                .setChannel(rollout.channel())
                .setKind(RolloutDecisionKind.valueOf(decision.kind()))
                .setStage(decision.stage())
                .setPercent(decision.percent())
                .setHosts(decision.hosts())
                .setDecidedBy(decision.decidedBy())
                .setReason(decision.reason())
                .setHealth(health(decision.health()))
                .build();
        return new Outbox.Outgoing(rollout.id().toString(), event, event.getEnvelope());
    }

    @Override
    public void published(Connection c, Decision decision, Instant at) throws SQLException {
        RolloutRepository.published(c, decision.id(), at);
    }

    @SuppressWarnings("unchecked")
    private static RolloutHealth health(Map<String, Object> h) {
        if (h == null) {
            return null;
        }
        return RolloutHealth.newBuilder()
                .setReports(((Number) h.get("reports")).longValue())
                .setVmHours(number(h.get("vmHours"), 0.0))
                .setRatePer1000VmHours(number(h.get("ratePer1000VmHours"), null))
                .setPreviousReports(((Number) h.get("previousReports")).longValue())
                .setPreviousVmHours(number(h.get("previousVmHours"), 0.0))
                .setPreviousRatePer1000VmHours(number(h.get("previousRatePer1000VmHours"), null))
                .setPValue(number(h.get("pValue"), null))
                .setMinRateRatio(number(h.get("minRateRatio"), 1.0))
                .setSignificance(number(h.get("significance"), 0.01))
                .setRegressions((List<String>) h.get("regressions"))
                .build();
    }

    private static Double number(Object value, Double fallback) {
        return value instanceof Number n ? n.doubleValue() : fallback;
    }
}
