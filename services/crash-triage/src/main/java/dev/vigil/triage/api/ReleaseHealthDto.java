package dev.vigil.triage.api;

import dev.vigil.triage.regression.RateComparison;
import dev.vigil.triage.regression.ReleaseHealth;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.UUID;

/**
 * A product release's crash rate over whole UTC days, the previous release's, the rate test between them, and the
 * release's regression verdicts: what rollouts are gated on.
 *
 * @param from the window's first UTC day
 * @param to the window's last UTC day, inclusive
 * @param reports crash reports (one per incident) of the release detected in the window
 * @param vmHours the release's VM-hours over the window's days from ingestion's uptime ledger; null when unknown
 * @param ratePer1000VmHours reports per 1,000 VM-hours; null when the VM-hours are unknown or 0
 * @param previous the release compared with, over the same days; null when the release has no previous one
 * @param comparison the rate test; null without a previous release or when either exposure is unknown or 0
 * @param regressions the release's recorded regression verdicts, newest first (at most 1,000)
 * @param regressionsTruncated whether the release has more verdicts than listed
 */
public record ReleaseHealthDto(
        String product,
        String release,
        LocalDate from,
        LocalDate to,
        long reports,
        Double vmHours,
        Double ratePer1000VmHours,
        PreviousReleaseDto previous,
        RateTestDto comparison,
        List<ReleaseRegressionDto> regressions,
        boolean regressionsTruncated) {

    static ReleaseHealthDto of(ReleaseHealth h) {
        ReleaseHealth.Exposure p = h.previous();
        ReleaseHealth.Comparison c = h.comparison();
        return new ReleaseHealthDto(
                h.product(),
                h.current().release(),
                h.from(),
                h.to(),
                h.current().reports(),
                h.current().vmHours(),
                h.current().ratePer1000VmHours(),
                p == null
                        ? null
                        : new PreviousReleaseDto(p.release(), p.reports(), p.vmHours(), p.ratePer1000VmHours()),
                c == null
                        ? null
                        : new RateTestDto(
                                RateComparison.NAME,
                                c.minRateRatio(),
                                c.significance(),
                                c.ratio(),
                                c.pValue(),
                                c.significant()),
                h.regressions().stream()
                        .map(r -> new ReleaseRegressionDto(
                                r.bucketId(), r.kind(), r.title(), r.previousRelease(), r.detectedAt()))
                        .toList(),
                h.regressionsTruncated());
    }

    /** The release compared with: its reports and VM-hours over the same days. */
    public record PreviousReleaseDto(String release, long reports, Double vmHours, Double ratePer1000VmHours) {}

    /**
     * Whether the release's rate is significantly more than {@code minRateRatio} times the previous release's.
     *
     * @param test the test's name
     * @param minRateRatio the null hypothesis: the rate is at most this many times the previous one
     * @param significance the level the p-value is compared with
     * @param ratio the release's rate over the previous one's; null when the previous release had no report
     * @param pValue the one-sided p-value
     * @param significant whether {@code pValue < significance}
     */
    public record RateTestDto(
            String test, double minRateRatio, double significance, Double ratio, double pValue, boolean significant) {}

    /**
     * A regression verdict triage recorded for the release (as judged when recorded, over the last 365 days).
     *
     * @param kind {@code NEW_IN_RELEASE} or {@code RATE_INCREASE}
     * @param title the bucket's title
     * @param previousRelease the release it was judged against
     */
    public record ReleaseRegressionDto(
            UUID bucketId, String kind, String title, String previousRelease, Instant detectedAt) {}
}
