package dev.vigil.dispatch.domain;

import java.util.List;

/**
 * Crash triage's view of a release's health over a window: its crash reports and VM-hours, the same for the release
 * it replaces, triage's rate test between the two, and triage's regression verdicts on the release's buckets.
 *
 * @param vmHours null when ingestion's ledger could not be read
 * @param pValue null when the test could not run (no exposure on either side)
 * @param significant whether the test rejected "at most minRateRatio times the previous rate"
 */
public record ReleaseHealth(
        long reports,
        Double vmHours,
        Double ratePer1000VmHours,
        long previousReports,
        Double previousVmHours,
        Double previousRatePer1000VmHours,
        Double pValue,
        boolean significant,
        double minRateRatio,
        double significance,
        List<Regression> regressions) {

    /** A regression crash triage found in one of the release's buckets. */
    public record Regression(String bucketId, String kind, String title) {}

    /** Triage's regressions that halt a rollout: a bucket whose rate rose significantly. */
    public List<Regression> rateRegressions() {
        return regressions.stream()
                .filter(r -> "RATE_INCREASE".equals(r.kind()))
                .toList();
    }
}
