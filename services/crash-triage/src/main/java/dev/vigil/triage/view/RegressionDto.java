package dev.vigil.triage.view;

import dev.vigil.triage.regression.RegressionRepository;
import dev.vigil.triage.regression.RegressionService;
import java.time.Instant;

/**
 * A regression verdict of a bucket in a release, recorded once when first judged.
 *
 * @param kind {@code NEW_IN_RELEASE} (no report in an earlier release of the product) or {@code RATE_INCREASE}
 * @param previousRelease the release compared with: the product's release whose first report came last before
 * @param reports the bucket's reports in the release when judged
 * @param vmHours the release's VM-hours (last 365 days) when judged, if known
 * @param pValue the rate comparison's one-sided p-value ({@code RATE_INCREASE} only)
 */
public record RegressionDto(
        String kind,
        String product,
        String release,
        String previousRelease,
        long reports,
        Double vmHours,
        Double ratePer1000VmHours,
        long previousReports,
        Double previousVmHours,
        Double previousRatePer1000VmHours,
        Double pValue,
        Instant detectedAt) {

    public static RegressionDto of(RegressionRepository.Verdict v) {
        return new RegressionDto(
                v.kind(),
                v.product(),
                v.release(),
                v.previousRelease(),
                v.reports(),
                v.vmHours(),
                RegressionService.rate(v.reports(), v.vmHours()),
                v.previousReports(),
                v.previousVmHours(),
                RegressionService.rate(v.previousReports(), v.previousVmHours()),
                v.pValue(),
                v.detectedAt());
    }
}
