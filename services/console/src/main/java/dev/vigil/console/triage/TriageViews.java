package dev.vigil.console.triage;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** What the console reads from crash triage's API: the fields its pages show (the API has more). */
public final class TriageViews {

    private TriageViews() {}

    public record Regression(
            String kind,
            String product,
            String release,
            String previousRelease,
            long reports,
            Double ratePer1000VmHours,
            Double previousRatePer1000VmHours,
            Double pValue,
            Instant detectedAt) {}

    public record Bucket(
            UUID id,
            String title,
            long reports,
            long hosts,
            long vms,
            Instant firstSeen,
            Instant lastSeen,
            Double ratePer1000VmHours,
            Regression regression) {}

    public record BucketPage(List<Bucket> items, Double vmHours) {}

    public record Trends(List<LocalDate> days, Map<UUID, List<Long>> counts) {}

    /**
     * An artifact of a report: {@code url} reads the stored object directly (unencrypted evidence), {@code content}
     * is crash triage's path that serves it decrypted when the agent encrypted it.
     */
    public record Artifact(
            String kind,
            String format,
            long sizeBytes,
            String sha256,
            String status,
            String url,
            boolean encrypted,
            String content) {}

    public record Report(
            String incidentId,
            String title,
            String evidence,
            String product,
            String release,
            String vmUuid,
            String vmName,
            String hostId,
            String trigger,
            Instant detectedAt,
            boolean complete,
            boolean provisional,
            List<Artifact> artifacts) {}

    public record Merge(UUID bucket, UUID into, String by, Instant at, String reason, long reportsMoved) {}

    public record Note(long id, String kind, String text, String url, String author, Instant createdAt) {}

    public record CollectionPolicy(
            String dump, String mode, String reason, long fullDumps, int fullDumpTarget, String setBy, Instant setAt) {}

    public record Key(int rulesVersion, String symbolicKey) {}

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
            Merge mergedInto,
            List<UUID> mergedFrom,
            List<Note> notes,
            List<Note> links,
            List<Regression> regressions,
            CollectionPolicy collectionPolicy,
            List<Report> latest) {}

    public record ReleaseSeries(String product, String release, long total, List<Long> counts) {}

    public record History(UUID bucket, List<LocalDate> days, List<ReleaseSeries> releases) {}

    public record ReleaseSummary(
            String product, String release, long reports, long buckets, Instant firstSeen, Instant lastSeen) {
        /** How the top-crashes page names it in its release filter. */
        public String key() {
            return product + "|" + release;
        }
    }

    public record ReleaseList(List<ReleaseSummary> items) {}

    public record Previous(String release, long reports, Double vmHours, Double ratePer1000VmHours) {}

    public record RateTest(
            String test, Double minRateRatio, Double significance, Double ratio, Double pValue, Boolean significant) {}

    public record ReleaseRegression(
            UUID bucketId, String kind, String title, String previousRelease, Instant detectedAt) {}

    public record ReleaseHealth(
            String product,
            String release,
            LocalDate from,
            LocalDate to,
            long reports,
            Double vmHours,
            Double ratePer1000VmHours,
            Previous previous,
            RateTest comparison,
            List<ReleaseRegression> regressions) {}

    public record Signature(
            String evidence,
            String title,
            Map<String, String> keys,
            String symbolic,
            List<String> frames,
            int rulesVersion,
            String corrupted) {}

    public record MergeRequest(String into, String reason) {}

    public record NoteRequest(String text) {}

    public record LinkRequest(String url, String title) {}

    public record CollectionPolicyRequest(String dump) {}
}
