package dev.vigil.triage.regression;

import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.TriageKind;
import dev.vigil.triage.config.TriageConfig;
import dev.vigil.triage.metrics.TriageMetrics;
import dev.vigil.triage.outbox.Outbox;
import dev.vigil.triage.outbox.TriagePublisher;
import dev.vigil.triage.uptime.UptimeClient;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Judges whether buckets are regressions in a release of a product, and announces each verdict once as
 * {@code REGRESSION} on {@code vigil.crash.triaged.v1}. A bucket is a regression in release R when R has a previous
 * release (the one whose first report came last before R's) and either it has no report in any earlier release of
 * the product (new in R), or, once R has {@code min-vm-hours} of exposure, its crash rate in R is significantly
 * more than {@code min-rate-ratio} times its rate in the previous release ({@link RateComparison}). Exposure is
 * VM-hours over the last 365 days from ingestion's uptime ledger; counts are the bucket's reports in each release
 * detected in the same window. Judged for the bucket of each filed report, and for every recent release by a scheduled sweep, since a
 * release's exposure grows without new crashes.
 */
@ApplicationScoped
public class RegressionService {

    static final String NEW_IN_RELEASE = "NEW_IN_RELEASE";
    static final String RATE_INCREASE = "RATE_INCREASE";
    /** Regressions are about a product, across the enterprises that run it. */
    /** Ingestion's uptime API answers at most 366 days. */
    static final int EXPOSURE_DAYS = 365;

    private static final Logger LOG = Logger.getLogger(RegressionService.class);
    private final RegressionRepository repository;
    private final UptimeClient uptime;
    private final Outbox outbox;
    private final TriageConfig.Regression config;
    private final TriageMetrics metrics;
    private final Map<String, CachedHours> exposures = new ConcurrentHashMap<>();

    RegressionService(
            RegressionRepository repository,
            UptimeClient uptime,
            Outbox outbox,
            TriageConfig config,
            TriageMetrics metrics) {
        this.repository = repository;
        this.uptime = uptime;
        this.outbox = outbox;
        this.config = config.triage().regression();
        this.metrics = metrics;
    }

    /** Judges one bucket in the release of a report just filed into it (exposure reused for a short while). */
    public void judge(UUID bucket, String product, String release) throws SQLException {
        if (product == null || release == null) {
            return;
        }
        judge(product, release, bucket, true);
    }

    /** Judges every bucket of every release with a recent report. */
    @Scheduled(
            every = "${vigil.triage.regression.sweep-every}",
            delayed = "5s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        try {
            List<RegressionRepository.Release> releases =
                    repository.recentReleases(Instant.now().minus(config.sweepWithin()));
            for (RegressionRepository.Release r : releases) {
                judge(r.product(), r.release(), null, false);
            }
        } catch (Exception e) {
            LOG.warnf("regression sweep stopped: %s", e.getMessage());
        }
    }

    private void judge(String product, String release, UUID bucket, boolean cached) throws SQLException {
        String previous = repository.previousRelease(product, release);
        if (previous == null) {
            return;
        }
        List<RegressionRepository.Candidate> candidates = repository.candidates(product, release, previous, bucket);
        if (candidates.isEmpty()) {
            return;
        }
        Double hours = exposure(product, release, cached);
        Double previousHours = exposure(product, previous, cached);
        for (RegressionRepository.Candidate candidate : candidates) {
            RegressionRepository.Verdict verdict = verdict(candidate, product, release, previous, hours, previousHours);
            if (verdict != null) {
                announce(candidate, verdict);
            }
        }
    }

    private RegressionRepository.Verdict verdict(
            RegressionRepository.Candidate candidate,
            String product,
            String release,
            String previous,
            Double hours,
            Double previousHours) {
        if (candidate.newInRelease()) {
            return new RegressionRepository.Verdict(
                    candidate.bucket(),
                    product,
                    release,
                    NEW_IN_RELEASE,
                    previous,
                    candidate.reports(),
                    hours,
                    0,
                    previousHours,
                    null,
                    Instant.now());
        }
        if (hours == null || previousHours == null || hours < config.minVmHours() || previousHours <= 0) {
            return null;
        }
        RateComparison.Verdict test = RateComparison.compare(
                candidate.reports(),
                hours,
                candidate.previousReports(),
                previousHours,
                config.minRateRatio(),
                config.significance());
        if (!test.significant()) {
            return null;
        }
        return new RegressionRepository.Verdict(
                candidate.bucket(),
                product,
                release,
                RATE_INCREASE,
                previous,
                candidate.reports(),
                hours,
                candidate.previousReports(),
                previousHours,
                test.pValue(),
                Instant.now());
    }

    /**
     * Records the verdict and stages its event in one transaction of its own: the event goes out only for the row
     * that was inserted, once it is committed.
     */
    private void announce(RegressionRepository.Candidate candidate, RegressionRepository.Verdict verdict) {
        boolean recorded = QuarkusTransaction.requiringNew().call(() -> {
            if (!repository.record(verdict)) {
                return false;
            }
            // Announced only if the verdict commits; the event id is derived from bucket and release.
            outbox.stage(event(candidate, verdict));
            return true;
        });
        if (!recorded) {
            return;
        }
        metrics.regression(verdict.kind());
        LOG.infof(
                "regression %s of bucket %s in %s %s (previous %s): %s",
                verdict.kind(),
                verdict.bucket(),
                verdict.product(),
                verdict.release(),
                verdict.previousRelease(),
                candidate.title());
    }

    private static CrashTriaged event(RegressionRepository.Candidate candidate, RegressionRepository.Verdict v) {
        String identity = "triaged:regression:" + v.bucket() + "|" + v.product() + "|" + v.release();
        Envelope envelope = TriagePublisher.envelope(identity, v.detectedAt());
        return CrashTriaged.newBuilder()
                .setEnvelope(envelope)
                .setBucketId(v.bucket().toString())
                .setKind(TriageKind.REGRESSION)
                .setTitle(candidate.title())
                .setSignatureKeys(Map.of("symbolic", candidate.symbolicKey()))
                .setProduct(v.product())
                .setRelease(v.release())
                .setReportCount(v.reports())
                .setRatePer1000VmHours(rate(v.reports(), v.vmHours()))
                .setPreviousReleaseRate(rate(v.previousReports(), v.previousVmHours()))
                .build();
    }

    /** Crashes per 1,000 VM-hours, or null when the exposure is unknown or none. */
    public static Double rate(long reports, Double vmHours) {
        return vmHours == null || vmHours <= 0 ? null : reports * 1000.0 / vmHours;
    }

    private Double exposure(String product, String release, boolean cached) {
        String key = product + "\u0000" + release;
        Instant now = Instant.now();
        CachedHours hit = exposures.get(key);
        if (cached && hit != null && hit.at().plus(config.exposureTtl()).isAfter(now)) {
            return hit.hours();
        }
        LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
        Optional<Double> hours = uptime.vmHours(product, release, today.minusDays(EXPOSURE_DAYS), today);
        exposures.put(key, new CachedHours(hours.orElse(null), now));
        return hours.orElse(null);
    }

    private record CachedHours(Double hours, Instant at) {}
}
