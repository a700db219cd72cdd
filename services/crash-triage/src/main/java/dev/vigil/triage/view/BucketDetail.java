package dev.vigil.triage.view;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A bucket with its latest reports.
 *
 * @param mergedInto the merge that makes its reports count in another bucket, or null
 * @param mergedFrom the buckets merged into it
 * @param notes analysts' latest 100 notes, newest first
 * @param links analysts' latest 100 links, newest first
 * @param regressions its regression verdicts in every release, newest first
 * @param collectionPolicy the memory dump policy last requested for its hosts, and its full dumps so far
 * @param keys the symbolic keys that file into it, per rules version (its first 50)
 */
public record BucketDetail(
        UUID id,
        String title,
        String symbolicKey,
        int rulesVersion,
        long reports,
        long hosts,
        long vms,
        Instant firstSeen,
        Instant lastSeen,
        MergeDto mergedInto,
        List<UUID> mergedFrom,
        List<NoteDto> notes,
        List<NoteDto> links,
        List<RegressionDto> regressions,
        CollectionPolicyDto collectionPolicy,
        List<KeyDto> keys,
        List<ReportDto> latest) {}
