package dev.vigil.triage.regression;

import dev.vigil.triage.config.TriageConfig;
import dev.vigil.triage.uptime.UptimeClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;

/**
 * The health of a product release over a window of UTC days: its crash rate per 1,000 VM-hours beside the previous
 * release's (triage's own, the one whose first report came last before its own, unless the caller names one), the
 * rate test between the two ({@link RateComparison}, as regressions are judged), and its recorded regressions.
 * Counts and VM-hours cover the same days; VM-hours come from ingestion's uptime ledger and are never guessed.
 */
@ApplicationScoped
public class ReleaseHealthService {

    /** Ingestion's uptime ledger answers at most this many days. */
    public static final int MAX_WINDOW_DAYS = 366;

    /** The window when none is asked for: this many UTC days up to today. */
    public static final int DEFAULT_WINDOW_DAYS = 30;

    /** Verdicts listed for a release: a release full of new buckets would otherwise make an unbounded answer. */
    static final int MAX_REGRESSIONS = 1000;

    private final ReleaseHealthRepository health;
    private final RegressionRepository releases;
    private final UptimeClient uptime;
    private final TriageConfig.Regression config;

    ReleaseHealthService(
            ReleaseHealthRepository health, RegressionRepository releases, UptimeClient uptime, TriageConfig config) {
        this.health = health;
        this.releases = releases;
        this.uptime = uptime;
        this.config = config.triage().regression();
    }

    /** The release's health; the query's bounds are the caller's to check (whole days, at most a year). */
    public ReleaseHealth health(Query query) throws SQLException {
        double minRatio = query.minRateRatio() == null ? config.minRateRatio() : query.minRateRatio();
        double alpha = query.significance() == null ? config.significance() : query.significance();
        Instant start = query.from().atStartOfDay(ZoneOffset.UTC).toInstant();
        Instant end = query.to().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        String previous = query.previous() == null
                ? releases.previousRelease(query.product(), query.release())
                : query.previous();
        long reports = health.reports(query.product(), query.release(), start, end);
        long previousReports = previous == null ? 0 : health.reports(query.product(), previous, start, end);
        List<ReleaseHealth.Regression> regressions =
                health.regressions(query.product(), query.release(), MAX_REGRESSIONS + 1);
        // Ingestion is asked with no connection held (and no transaction open): it may take seconds to answer, or
        // not answer at all.
        ReleaseHealth.Exposure current =
                new ReleaseHealth.Exposure(query.release(), reports, vmHours(query.product(), query.release(), query));
        ReleaseHealth.Exposure before = previous == null
                ? null
                : new ReleaseHealth.Exposure(previous, previousReports, vmHours(query.product(), previous, query));
        boolean truncated = regressions.size() > MAX_REGRESSIONS;
        return new ReleaseHealth(
                query.product(),
                query.from(),
                query.to(),
                current,
                before,
                compare(current, before, minRatio, alpha),
                truncated ? List.copyOf(regressions.subList(0, MAX_REGRESSIONS)) : regressions,
                truncated);
    }

    private Double vmHours(String product, String release, Query query) {
        return uptime.vmHours(product, release, query.from(), query.to()).orElse(null);
    }

    /** The rate test, when both exposures are known and not 0 (a rate needs both). */
    private static ReleaseHealth.Comparison compare(
            ReleaseHealth.Exposure current, ReleaseHealth.Exposure previous, double minRatio, double alpha) {
        if (previous == null || !positive(current.vmHours()) || !positive(previous.vmHours())) {
            return null;
        }
        RateComparison.Verdict test = RateComparison.compare(
                current.reports(), current.vmHours(), previous.reports(), previous.vmHours(), minRatio, alpha);
        // Without a previous report the ratio is infinite (or 0/0): not a number JSON can carry or a reader can use.
        Double ratio = previous.reports() == 0 ? null : test.ratio();
        return new ReleaseHealth.Comparison(minRatio, alpha, ratio, test.pValue(), test.significant());
    }

    private static boolean positive(Double hours) {
        return hours != null && hours > 0;
    }

    /**
     * What to report on.
     *
     * @param previous the release to compare with, or null for triage's previous release of {@code release}
     * @param from the window's first UTC day
     * @param to the window's last UTC day (inclusive)
     * @param minRateRatio the rate test's ratio, or null for {@code vigil.triage.regression.min-rate-ratio}
     * @param significance the rate test's level, or null for {@code vigil.triage.regression.significance}
     */
    public record Query(
            String product,
            String release,
            String previous,
            LocalDate from,
            LocalDate to,
            Double minRateRatio,
            Double significance) {}
}
