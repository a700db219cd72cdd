package dev.vigil.triage.view;

import java.time.Instant;

/**
 * A product release's crash reports in a window.
 *
 * @param product the product, '' when its reports did not say (the release is known)
 * @param release the release, '' when its reports did not say (the product is known)
 * @param reports its reports in the window
 * @param buckets the buckets those reports count in
 * @param firstSeen its first report in the window
 * @param lastSeen its last report in the window
 */
public record ReleaseSummaryDto(
        String product, String release, long reports, long buckets, Instant firstSeen, Instant lastSeen) {}
