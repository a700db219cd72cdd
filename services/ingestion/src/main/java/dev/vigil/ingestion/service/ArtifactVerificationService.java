package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.domain.ArtifactCheck;
import dev.vigil.ingestion.domain.IncidentEvidence;
import dev.vigil.ingestion.persistence.ArtifactEntity;
import dev.vigil.ingestion.persistence.ArtifactRepository;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.event.TransactionPhase;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

/**
 * Checks each artifact manifest's object in the background: size and SHA-256 streamed from the store, outside any
 * database transaction; the outcome (VERIFIED, MISSING after a grace period, CORRUPT with the mismatch) is then
 * recorded. A round runs as soon as a manifest is recorded, and on the scheduler's period for what is left (an
 * object not in the store yet, a store that failed); each checked artifact lets the crash report assembler look at
 * once.
 */
@ApplicationScoped
public class ArtifactVerificationService {

    private static final System.Logger LOG = System.getLogger(ArtifactVerificationService.class.getName());

    private final ArtifactRepository artifacts;
    private final ArtifactVerifier verifier;
    private final IngestionConfig config;
    private final MeterRegistry registry;
    private final Event<IncidentEvidence> checked;
    private final Clock clock = Clock.systemUTC();
    private final Rounds rounds = new Rounds("vigil-artifact-checks", this::verifyPending);

    ArtifactVerificationService(
            ArtifactRepository artifacts,
            ArtifactVerifier verifier,
            IngestionConfig config,
            MeterRegistry registry,
            Event<IncidentEvidence> checked) {
        this.artifacts = artifacts;
        this.verifier = verifier;
        this.config = config;
        this.registry = registry;
        this.checked = checked;
    }

    @Scheduled(
            every = "${vigil.ingestion.artifact-verify-every:10s}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP,
            skipExecutionIf = Scheduled.ApplicationNotRunning.class)
    void onSchedule() {
        rounds.ask();
    }

    void onManifest(@Observes(during = TransactionPhase.AFTER_SUCCESS) IncidentEvidence evidence) {
        if (evidence == IncidentEvidence.MANIFEST) {
            rounds.ask();
        }
    }

    @PreDestroy
    void stop() {
        rounds.close();
    }

    private void verifyPending() {
        List<ArtifactEntity> pending =
                QuarkusTransaction.requiringNew().call(() -> artifacts.unverified(config.artifactVerifyBatch()));
        int recorded = 0;
        for (ArtifactEntity artifact : pending) {
            ArtifactCheck check =
                    verifier.check(artifact.bucket, artifact.objectKey, artifact.sizeBytes, artifact.sha256);
            Instant now = clock.instant();
            if (ArtifactCheck.MISSING.equals(check.status())
                    && artifact.receivedAt.plus(config.artifactMissingGrace()).isAfter(now)) {
                continue;
            }
            if (ArtifactCheck.UNVERIFIED.equals(check.status())) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "artifact " + artifact.eventId + " not checked yet: " + check.detail());
                continue;
            }
            QuarkusTransaction.requiringNew().run(() -> artifacts.record(artifact.eventId, check, now));
            checked.fire(IncidentEvidence.CHECKED); // no transaction here: observers hear it at once
            recorded++;
            registry.counter("vigil.ingestion.artifacts.checked", "status", check.status())
                    .increment();
            if (!ArtifactCheck.VERIFIED.equals(check.status())) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "artifact " + artifact.eventId + " (" + artifact.objectKey + ") is " + check.status() + ": "
                                + check.detail());
            }
        }
        if (recorded > 0 && pending.size() == config.artifactVerifyBatch()) {
            rounds.ask(); // a full batch: more may be waiting
        }
    }
}
