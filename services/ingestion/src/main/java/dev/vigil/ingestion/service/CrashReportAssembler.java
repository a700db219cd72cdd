package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.domain.EvidenceVerdict;
import dev.vigil.ingestion.domain.IncidentEvidence;
import dev.vigil.ingestion.mapping.AgentEventMapper;
import dev.vigil.ingestion.mapping.CrashReportMapper;
import dev.vigil.ingestion.messaging.CrashReportPublisher;
import dev.vigil.ingestion.persistence.ArtifactEntity;
import dev.vigil.ingestion.persistence.IncidentEntity;
import dev.vigil.ingestion.persistence.IncidentRepository;
import dev.vigil.ingestion.persistence.VmEntity;
import dev.vigil.ingestion.persistence.VmRepository;
import dev.vigil.schemas.crash.CrashReported;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Publishes one {@code vigil.crash.reported.v1} per incident, when its evidence is complete or its deadline has
 * passed, preceded by a provisional one (no evidence, {@code provisional} true) as soon as its trigger is recorded,
 * unless the evidence is complete by then. Rounds run when a trigger is recorded or an artifact checked, and on the
 * scheduler's period as well. Each report is decided under a row lock ({@code FOR UPDATE SKIP LOCKED}, so replicas never report the same
 * incident) and marked reported in the transaction that saw the broker's acknowledgement. State lives only in the
 * database: a restart or a rebalance loses nothing and repeats nothing. The one window left (acknowledged, then the
 * commit fails) republishes the same event id, which consumers dedupe.
 */
@ApplicationScoped
public class CrashReportAssembler {

    private static final System.Logger LOG = System.getLogger(CrashReportAssembler.class.getName());
    private static final int SCAN_LIMIT = 500;

    private final IncidentRepository incidents;
    private final VmRepository vms;
    private final CrashReportMapper mapper;
    private final CrashReportPublisher publisher;
    private final IngestionConfig config;
    private final IngestionMetrics metrics;
    private final AtomicInteger open = new AtomicInteger();
    private final Clock clock = Clock.systemUTC();
    private final Rounds rounds = new Rounds("vigil-crash-reports", this::reportDue);

    CrashReportAssembler(
            IncidentRepository incidents,
            VmRepository vms,
            CrashReportMapper mapper,
            CrashReportPublisher publisher,
            IngestionConfig config,
            IngestionMetrics metrics,
            MeterRegistry registry) {
        this.incidents = incidents;
        this.vms = vms;
        this.mapper = mapper;
        this.publisher = publisher;
        this.config = config;
        this.metrics = metrics;
        registry.gauge("vigil.ingestion.incidents.open", open);
    }

    @Scheduled(
            every = "${vigil.ingestion.incident-check-every:2s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = Scheduled.ApplicationNotRunning.class)
    void onSchedule() {
        rounds.ask();
    }

    /** A trigger recorded or an artifact checked: a report may be due (or a provisional one) now. */
    void onEvidence(@Observes(during = TransactionPhase.AFTER_SUCCESS) IncidentEvidence evidence) {
        if (evidence != IncidentEvidence.MANIFEST) {
            rounds.ask();
        }
    }

    @PreDestroy
    void stop() {
        rounds.close();
    }

    private void reportDue() {
        Instant now = clock.instant();
        List<String> due = QuarkusTransaction.requiringNew().call(() -> {
            List<IncidentRepository.OpenIncident> pending = incidents.openWithEvidence(SCAN_LIMIT);
            open.set(pending.size());
            List<String> ids = new ArrayList<>();
            for (IncidentRepository.OpenIncident incident : pending) {
                EvidenceVerdict verdict = verdict(
                        incident.trigger(), incident.deadline(), incident.capturePlan(), incident.statuses(), now);
                if (verdict.due() || provisionalDue(incident.trigger(), incident.provisional())) {
                    ids.add(incident.incidentId());
                }
            }
            return ids;
        });
        for (String id : due) {
            try {
                QuarkusTransaction.requiringNew().run(() -> reportIfDue(id, now));
            } catch (RuntimeException e) {
                // The transaction rolled back: the incident stays open and the next round tries again.
                LOG.log(System.Logger.Level.WARNING, "crash report for incident " + id + " not published: " + e);
            }
        }
    }

    private void reportIfDue(String incidentId, Instant now) {
        IncidentEntity incident = incidents.claim(incidentId).orElse(null);
        if (incident == null) {
            return;
        }
        List<ArtifactEntity> artifacts = incidents.artifacts(incidentId);
        Map<String, Set<String>> statuses = new HashMap<>();
        for (ArtifactEntity artifact : artifacts) {
            statuses.computeIfAbsent(artifact.kind, k -> new HashSet<>()).add(artifact.status);
        }
        EvidenceVerdict verdict = verdict(
                incident.trigger,
                incident.deadline,
                incident.capturePlan == null ? null : Arrays.asList(incident.capturePlan),
                statuses,
                now);
        if (!verdict.due()) {
            if (provisionalDue(incident.trigger, incident.provisionalAt != null)) {
                reportProvisionally(incident, verdict);
            }
            return;
        }
        if (AgentEventMapper.INTERRUPT.equals(incident.trigger)) {
            // Evidence of a VM the vendor stopped on purpose: kept and served with the incident, but not a crash,
            // so it neither makes a bucket nor counts against the release's health.
            incident.reportedAt = clock.instant();
            incident.complete = verdict.complete();
            incident.missing = verdict.missing().toArray(String[]::new);
            LOG.log(
                    System.Logger.Level.INFO,
                    "interrupt incident " + incidentId + " of " + incident.vmUuid + " has its evidence"
                            + (verdict.complete() ? "" : " at its deadline, missing " + verdict.missing())
                            + "; not a crash, so not sent to triage");
            return;
        }
        VmEntity vm = vms.findById(incident.vmUuid);
        CrashReported report = mapper.toReport(
                incident, artifacts, verdict, vm == null ? null : vm.product, vm == null ? null : vm.release);
        publisher.publish(report);
        incident.reportedAt = clock.instant();
        incident.reportEventId = report.getEnvelope().getEventId();
        incident.complete = verdict.complete();
        incident.missing = verdict.missing().toArray(String[]::new);
        metrics.crashReported(verdict.complete());
        LOG.log(
                System.Logger.Level.INFO,
                "crash report for incident " + incidentId + " (" + incident.trigger + " on " + incident.vmUuid + ") "
                        + (verdict.complete() ? "complete" : "at its deadline, missing " + verdict.missing())
                        + " after "
                        + Duration.between(incident.openedAt, incident.reportedAt)
                                .toMillis() + " ms");
    }

    /** Whether an incident not yet due has a trigger to report provisionally, and has not been reported so. */
    private boolean provisionalDue(String trigger, boolean sent) {
        return config.provisionalReports() && trigger != null && !sent && !AgentEventMapper.INTERRUPT.equals(trigger);
    }

    /** The hypervisor's event alone, so that triage files the crash at once; every expected kind is missing yet. */
    private void reportProvisionally(IncidentEntity incident, EvidenceVerdict verdict) {
        VmEntity vm = vms.findById(incident.vmUuid);
        EvidenceVerdict none = new EvidenceVerdict(
                false,
                false,
                expected(incident.trigger, incident.capturePlan == null ? null : Arrays.asList(incident.capturePlan)));
        CrashReported report = mapper.toProvisionalReport(
                incident, none, vm == null ? null : vm.product, vm == null ? null : vm.release);
        publisher.publish(report);
        incident.provisionalAt = clock.instant();
        metrics.crashReportedProvisionally();
        LOG.log(
                System.Logger.Level.INFO,
                "provisional crash report for incident " + incident.incidentId + " (" + incident.trigger + " on "
                        + incident.vmUuid + "), still waiting for " + verdict.missing() + " after "
                        + Duration.between(incident.openedAt, incident.provisionalAt)
                                .toMillis() + " ms");
    }

    /**
     * The kinds of evidence an incident not yet reported still waits for (until its deadline): those expected and
     * not verified. Empty once it is reported, or while it has no trigger and announced no plan.
     */
    public List<String> waitingFor(IncidentEntity incident, List<ArtifactEntity> artifacts) {
        if (incident.reportedAt != null) {
            return List.of();
        }
        Map<String, Set<String>> statuses = new HashMap<>();
        for (ArtifactEntity artifact : artifacts) {
            statuses.computeIfAbsent(artifact.kind, k -> new HashSet<>()).add(artifact.status);
        }
        return verdict(
                        incident.trigger,
                        incident.deadline,
                        incident.capturePlan == null ? null : Arrays.asList(incident.capturePlan),
                        statuses,
                        clock.instant())
                .missing();
    }

    private EvidenceVerdict verdict(
            String trigger, Instant deadline, List<String> plan, Map<String, Set<String>> statuses, Instant now) {
        return EvidenceVerdict.assess(trigger != null, deadline, expected(trigger, plan), statuses, now);
    }

    private List<String> expected(String trigger, List<String> plan) {
        if (plan != null) {
            return plan;
        }
        if (trigger == null) {
            return List.of();
        }
        return switch (trigger) {
            case "CRASH" -> config.crashEvidence();
            case "HANG" -> config.hangEvidence();
            case "WATCHDOG" -> config.watchdogEvidence();
            default -> config.ioErrorEvidence();
        };
    }
}
