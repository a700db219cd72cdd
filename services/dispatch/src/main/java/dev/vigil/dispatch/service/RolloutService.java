package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Cohorts;
import dev.vigil.dispatch.domain.Command;
import dev.vigil.dispatch.domain.Host;
import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.ReleaseHealth;
import dev.vigil.dispatch.domain.ReleaseState;
import dev.vigil.dispatch.domain.Rollout;
import dev.vigil.dispatch.domain.RolloutGate;
import dev.vigil.dispatch.domain.RolloutState;
import dev.vigil.dispatch.messaging.RolloutPublisher;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.dispatch.persistence.RolloutRepository;
import dev.vigil.dispatch.persistence.RolloutRepository.Decision;
import dev.vigil.schemas.agent.CommandAction;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Staged rollouts of a published release to a channel. A stage includes a share of the channel's enrolled hosts (by
 * {@link Cohorts}); each host included gets an {@code UPDATE} command. A running rollout is judged on crash triage's
 * release health at every check ({@link RolloutGate}): it halts on a regression, rolling its hosts back with
 * {@code ROLL_BACK} commands when asked, advances when a stage has its exposure and time, and completes by making
 * the release what the channel offers. Operators pause, resume and abort. Every decision is recorded with its numbers
 * and published on {@code vigil.dispatch.rollouts.v1}.
 */
@ApplicationScoped
public class RolloutService {

    /** Who takes the automatic decisions. */
    public static final String GATE = "gate";

    private static final Logger LOG = Logger.getLogger(RolloutService.class);

    private final Database db;
    private final CommandService commands;
    private final RepositoryService repository;
    private final ReleaseHealthClient health;
    private final RolloutPublisher publisher;
    private final MeterRegistry metrics;
    private final DispatchConfig.Rollouts config;
    private final Clock clock = Clock.systemUTC();

    RolloutService(
            Database db,
            CommandService commands,
            RepositoryService repository,
            ReleaseHealthClient health,
            RolloutPublisher publisher,
            MeterRegistry metrics,
            DispatchConfig config) {
        this.db = db;
        this.commands = commands;
        this.repository = repository;
        this.health = health;
        this.publisher = publisher;
        this.metrics = metrics;
        this.config = config.dispatch().rollouts();
    }

    /** What an operator asks for; null fields take the configured defaults. */
    public record Plan(
            String product,
            String release,
            String channel,
            List<Integer> stages,
            Double minVmHours,
            Duration minStageDuration,
            Double minRateRatio,
            Double significance,
            Boolean rollbackOnHalt) {}

    /** Starts a rollout of a published release: its first stage's hosts get the update at once. */
    public Rollout start(Plan plan, String by) {
        List<Integer> stages = plan.stages() == null || plan.stages().isEmpty() ? config.stages() : plan.stages();
        checkStages(stages);
        double minVmHours = plan.minVmHours() == null ? config.minVmHours() : plan.minVmHours();
        double minRateRatio = plan.minRateRatio() == null ? config.minRateRatio() : plan.minRateRatio();
        double significance = plan.significance() == null ? config.significance() : plan.significance();
        if (minVmHours < 0 || minRateRatio < 1 || !(significance > 0 && significance < 1)) {
            throw RefusedException.badRequest(
                    "Bad rollout", "minVmHours >= 0, minRateRatio >= 1 and 0 < significance < 1");
        }
        Duration minStage = plan.minStageDuration() == null ? config.minStageDuration() : plan.minStageDuration();
        if (minStage.isNegative()) {
            throw RefusedException.badRequest("Bad rollout", "minStageDuration must not be negative");
        }
        List<Command> issued = new ArrayList<>();
        Rollout started = db.transaction(c -> {
            Release release = ReleaseRepository.find(c, plan.product(), plan.release(), false);
            if (release == null) {
                throw RefusedException.notFound(
                        "Unknown release", plan.product() + " has no release " + plan.release());
            }
            if (release.state() != ReleaseState.PUBLISHED) {
                throw RefusedException.conflict(
                        "Release not published",
                        plan.product() + " " + plan.release() + " is " + release.state()
                                + ": a rollout only delivers a release signed into the repository; publish it first");
            }
            String channel = plan.channel() == null || plan.channel().isBlank() ? release.channel() : plan.channel();
            String previous = ReleaseRepository.channelHead(c, plan.product(), channel);
            if (previous == null) {
                throw RefusedException.conflict(
                        "Nothing to replace",
                        "channel " + channel + " offers no release yet: the first release published to it is offered"
                                + " at once");
            }
            if (previous.equals(plan.release())) {
                throw RefusedException.conflict(
                        "Already offered", "channel " + channel + " already offers " + plan.release());
            }
            Instant now = clock.instant();
            Rollout rollout = new Rollout(
                    UUID.randomUUID(),
                    plan.product(),
                    plan.release(),
                    previous,
                    channel,
                    List.copyOf(stages),
                    1,
                    RolloutState.RUNNING,
                    minVmHours,
                    minStage,
                    minRateRatio,
                    significance,
                    plan.rollbackOnHalt() == null || plan.rollbackOnHalt(),
                    by,
                    now,
                    now,
                    now);
            if (!RolloutRepository.insert(c, rollout)) {
                throw RefusedException.conflict(
                        "Rollout in progress",
                        "a rollout is in progress on " + plan.product() + " " + channel
                                + ": pause, abort or let it finish first");
            }
            issued.addAll(include(c, rollout));
            decide(
                    c,
                    rollout,
                    "STARTED",
                    by,
                    "started: " + stages + "% of " + channel + "'s hosts, " + previous + " -> " + plan.release(),
                    null);
            return rollout;
        });
        after(issued);
        LOG.infof(
                "rollout %s of %s %s on %s started by %s",
                started.id(), started.product(), started.release(), started.channel(), by);
        return started;
    }

    /** Judges every running rollout. */
    // Not before the messaging channels are connected at start.
    @Scheduled(
            every = "${vigil.dispatch.rollouts.check-every}",
            delayed = "3s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void check() {
        List<UUID> running;
        try {
            running = db.read(RolloutRepository::running);
        } catch (RuntimeException e) {
            LOG.warnf("rollout check: %s", e.getMessage());
            return;
        }
        for (UUID id : running) {
            try {
                judge(id);
            } catch (RuntimeException e) {
                LOG.warnf("judging rollout %s: %s", id, e.toString());
            }
        }
        publisher.publishPending();
    }

    /** Judges one rollout now. */
    void judge(UUID id) {
        Rollout seen = db.read(c -> RolloutRepository.find(c, id, false));
        if (seen == null || seen.state() != RolloutState.RUNNING) {
            return;
        }
        ReleaseHealth judged = health.health(
                seen.product(), seen.release(), seen.previousRelease(), seen.minRateRatio(), seen.significance());
        List<Command> issued = new ArrayList<>();
        db.transaction(c -> {
            Rollout rollout = RolloutRepository.find(c, id, true);
            if (rollout.state() != RolloutState.RUNNING) {
                return null;
            }
            Instant now = clock.instant();
            RolloutGate.Decision decision = RolloutGate.judge(rollout, judged, now);
            switch (decision.verdict()) {
                case WAIT -> issued.addAll(include(c, rollout));
                case ADVANCE -> {
                    RolloutRepository.update(c, id, rollout.stage() + 1, RolloutState.RUNNING, now, now);
                    Rollout next = RolloutRepository.find(c, id, false);
                    issued.addAll(include(c, next));
                    decide(c, next, "ADVANCED", GATE, decision.reason(), judged);
                }
                case COMPLETE -> {
                    issued.addAll(include(c, rollout));
                    RolloutRepository.update(
                            c, id, rollout.stage(), RolloutState.COMPLETED, rollout.stageStartedAt(), now);
                    ReleaseRepository.setChannelHead(c, rollout.product(), rollout.channel(), rollout.release());
                    repository.publish(c, List.of(rollout.product()));
                    decide(c, RolloutRepository.find(c, id, false), "COMPLETED", GATE, decision.reason(), judged);
                }
                case HALT -> {
                    RolloutRepository.update(
                            c, id, rollout.stage(), RolloutState.HALTED, rollout.stageStartedAt(), now);
                    Rollout halted = RolloutRepository.find(c, id, false);
                    decide(c, halted, "HALTED", GATE, decision.reason(), judged);
                    if (rollout.rollbackOnHalt()) {
                        issued.addAll(rollBack(c, halted, GATE));
                    }
                }
            }
            if (decision.verdict() != RolloutGate.Verdict.WAIT) {
                LOG.infof(
                        "rollout %s of %s %s: %s (%s)",
                        id, rollout.product(), rollout.release(), decision.verdict(), decision.reason());
                metrics.counter(
                                "vigil.dispatch.rollouts.decisions",
                                "kind",
                                decision.verdict().name())
                        .increment();
            }
            return null;
        });
    }

    /** An operator pauses a running rollout: hosts keep what they have; no stage is added. */
    public Rollout pause(UUID id, String by) {
        return operate(id, by, RolloutState.RUNNING, RolloutState.PAUSED, "PAUSED", "paused by " + by, false);
    }

    public Rollout resume(UUID id, String by) {
        return operate(id, by, RolloutState.PAUSED, RolloutState.RUNNING, "RESUMED", "resumed by " + by, false);
    }

    /** An operator stops a rollout for good, rolling its hosts back when asked. */
    public Rollout abort(UUID id, boolean rollback, String by) {
        return operate(id, by, null, RolloutState.ABORTED, "ABORTED", "aborted by " + by, rollback);
    }

    public Rollout rollout(UUID id) {
        Rollout rollout = db.read(c -> RolloutRepository.find(c, id, false));
        if (rollout == null) {
            throw RefusedException.notFound("Unknown rollout", "no rollout " + id);
        }
        return rollout;
    }

    public List<Rollout> rollouts(String product, int limit) {
        return db.read(c -> RolloutRepository.search(c, product, limit));
    }

    public List<Decision> decisions(UUID id) {
        return db.read(c -> RolloutRepository.decisions(c, id));
    }

    public Map<String, UUID> hosts(UUID id) {
        return db.read(c -> RolloutRepository.hosts(c, id));
    }

    private Rollout operate(
            UUID id, String by, RolloutState from, RolloutState to, String kind, String reason, boolean rollback) {
        List<Command> issued = new ArrayList<>();
        Rollout changed = db.transaction(c -> {
            Rollout rollout = RolloutRepository.find(c, id, true);
            if (rollout == null) {
                throw RefusedException.notFound("Unknown rollout", "no rollout " + id);
            }
            boolean allowed = from == null ? rollout.state().inProgress() : rollout.state() == from;
            if (!allowed) {
                throw RefusedException.conflict(
                        "Rollout is " + rollout.state(),
                        "rollout " + id + " is " + rollout.state() + "; " + kind.toLowerCase(java.util.Locale.ROOT)
                                + " needs it " + (from == null ? "running or paused" : from.name()));
            }
            Instant now = clock.instant();
            RolloutRepository.update(
                    c, id, rollout.stage(), to, to == RolloutState.RUNNING ? now : rollout.stageStartedAt(), now);
            Rollout next = RolloutRepository.find(c, id, false);
            decide(c, next, kind, by, reason, null);
            if (rollback) {
                issued.addAll(rollBack(c, next, by));
            }
            return next;
        });
        after(issued);
        LOG.infof("rollout %s %s", id, reason);
        return changed;
    }

    /** Updates the hosts the rollout's current stage includes and that are not in it yet. */
    private List<Command> include(Connection c, Rollout rollout) throws SQLException {
        Map<String, UUID> included = RolloutRepository.hosts(c, rollout.id());
        List<Command> issued = new ArrayList<>();
        for (Host host : HostRepository.inChannel(c, rollout.product(), rollout.channel())) {
            if (included.containsKey(host.hostId())
                    || !Cohorts.includes(rollout.id(), host.hostId(), rollout.percent())) {
                continue;
            }
            Map<String, String> arguments = new LinkedHashMap<>();
            arguments.put("product", rollout.product());
            arguments.put("release", rollout.release());
            arguments.put("previousRelease", rollout.previousRelease());
            arguments.put("rolloutId", rollout.id().toString());
            Command command = commands.issue(
                            c,
                            CommandAction.UPDATE,
                            List.of(new CommandTarget(host.hostId(), null, null)),
                            arguments,
                            config.commandTtl(),
                            Command.ROLLOUT,
                            rollout.id(),
                            GATE)
                    .get(0);
            RolloutRepository.includeHost(c, rollout.id(), host.hostId(), rollout.stage(), command.id());
            issued.add(command);
        }
        return issued;
    }

    private List<Command> rollBack(Connection c, Rollout rollout, String by) throws SQLException {
        List<CommandTarget> targets = new ArrayList<>();
        for (String host : RolloutRepository.hosts(c, rollout.id()).keySet()) {
            targets.add(new CommandTarget(host, null, null));
        }
        if (targets.isEmpty()) {
            return List.of();
        }
        Map<String, String> arguments = new LinkedHashMap<>();
        arguments.put("product", rollout.product());
        arguments.put("release", rollout.previousRelease());
        arguments.put("from", rollout.release());
        arguments.put("rolloutId", rollout.id().toString());
        List<Command> issued = commands.issue(
                c, CommandAction.ROLL_BACK, targets, arguments, config.commandTtl(), Command.ROLLOUT, rollout.id(), by);
        decide(
                c,
                rollout,
                "ROLLED_BACK",
                by,
                targets.size() + " hosts asked to return to " + rollout.previousRelease(),
                null);
        return issued;
    }

    private void decide(Connection c, Rollout rollout, String kind, String by, String reason, ReleaseHealth judged)
            throws SQLException {
        int hosts = RolloutRepository.hosts(c, rollout.id()).size();
        RolloutRepository.decide(
                c,
                new Decision(
                        UUID.randomUUID(),
                        rollout.id(),
                        kind,
                        rollout.stage(),
                        rollout.percent(),
                        hosts,
                        by,
                        reason,
                        judged == null ? null : healthMap(judged),
                        clock.instant(),
                        null));
    }

    private void after(List<Command> issued) {
        // The commands' agents are woken by their transaction's commit; the decisions are published here.
        publisher.publishPending();
    }

    static Map<String, Object> healthMap(ReleaseHealth h) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("reports", h.reports());
        map.put("vmHours", h.vmHours());
        map.put("ratePer1000VmHours", h.ratePer1000VmHours());
        map.put("previousReports", h.previousReports());
        map.put("previousVmHours", h.previousVmHours());
        map.put("previousRatePer1000VmHours", h.previousRatePer1000VmHours());
        map.put("pValue", h.pValue());
        map.put("significant", h.significant());
        map.put("minRateRatio", h.minRateRatio());
        map.put("significance", h.significance());
        map.put(
                "regressions",
                h.rateRegressions().stream()
                        .map(ReleaseHealth.Regression::bucketId)
                        .toList());
        return map;
    }

    private static void checkStages(List<Integer> stages) {
        int last = 0;
        for (Integer stage : stages) {
            if (stage == null || stage <= last || stage > 100) {
                throw RefusedException.badRequest(
                        "Bad stages",
                        "stages are increasing percentages of 1-100, ending at 100, such as [1, 10, 50, 100]");
            }
            last = stage;
        }
        if (last != 100 || stages.size() > 20) {
            throw RefusedException.badRequest("Bad stages", "the last stage is 100%, and there are at most 20 stages");
        }
    }
}
