package dev.vigil.triage.regression;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

/**
 * A product release's crash reports and VM-hours over a window of whole UTC days, the same for the release it is
 * compared with, the rate test between the two, and the regression verdicts triage recorded for the release.
 *
 * @param from the window's first day
 * @param to the window's last day (inclusive)
 * @param current the release itself
 * @param previous the release compared with, or null when there is none
 * @param comparison the rate test, or null when there is no previous release or either exposure is unknown or 0
 * @param regressions the verdicts recorded for the release, newest first, at most {@code ReleaseHealthService}'s limit
 * @param regressionsTruncated whether the release has more verdicts than listed
 */
public record ReleaseHealth(
        String product,
        LocalDate from,
        LocalDate to,
        Exposure current,
        Exposure previous,
        Comparison comparison,
        List<Regression> regressions,
        boolean regressionsTruncated) {

    /**
     * A release's crashes against its exposure in the window.
     *
     * @param reports crash reports (one per incident) detected in the window
     * @param vmHours VM-hours over the window's days from ingestion's uptime ledger, or null when unknown
     */
    public record Exposure(String release, long reports, Double vmHours) {

        /** Reports per 1,000 VM-hours, or null when the exposure is unknown or 0. */
        public Double ratePer1000VmHours() {
            return RegressionService.rate(reports, vmHours);
        }
    }

    /**
     * The one-sided exact conditional binomial test of the release's count against the previous release's
     * ({@link RateComparison}).
     *
     * @param minRateRatio the ratio the null hypothesis allows (the rate may be up to this many times the previous)
     * @param significance the level below which the p-value is significant
     * @param ratio the release's rate over the previous release's, or null when the previous release had no report
     *     (the ratio is infinite, or undefined when neither had one)
     */
    public record Comparison(
            double minRateRatio, double significance, Double ratio, double pValue, boolean significant) {}

    /** A regression verdict recorded for the release, with its bucket's title. */
    public record Regression(UUID bucketId, String kind, String title, String previousRelease, Instant detectedAt) {}
}
