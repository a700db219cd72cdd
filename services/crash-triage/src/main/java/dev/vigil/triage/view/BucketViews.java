package dev.vigil.triage.view;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.triage.bucket.BucketRepository;
import dev.vigil.triage.bucket.BucketRepository.BucketRow;
import dev.vigil.triage.bucket.BucketRepository.ReportRow;
import dev.vigil.triage.bucket.CurationRepository;
import dev.vigil.triage.bucket.CurationService;
import dev.vigil.triage.bucket.EvidenceStore;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.regression.RegressionRepository;
import dev.vigil.triage.rules.RulesRepository;
import dev.vigil.triage.uptime.UptimeClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The read model of buckets: what the analysts' pages show, assembled from filing's tables, the regression verdicts,
 * the curation and collection records, the rules keys, ingestion's uptime ledger and presigned evidence links. Reads
 * only; the HTTP resources check their parameters and serialize what this returns.
 */
@ApplicationScoped
public class BucketViews {

    /** Notes and links shown with a bucket, newest first. */
    static final int MAX_NOTES = 100;
    /** Reports shown with a bucket, latest first. */
    static final int LATEST_REPORTS = 50;
    /** Rules keys shown with a bucket. */
    static final int MAX_KEYS = 50;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BucketRepository buckets;
    private final CurationRepository curation;
    private final RegressionRepository regressions;
    private final RulesRepository rules;
    private final CollectionPolicyService collection;
    private final EvidenceStore store;
    private final UptimeClient uptime;

    BucketViews(
            BucketRepository buckets,
            CurationRepository curation,
            RegressionRepository regressions,
            RulesRepository rules,
            CollectionPolicyService collection,
            EvidenceStore store,
            UptimeClient uptime) {
        this.buckets = buckets;
        this.curation = curation;
        this.regressions = regressions;
        this.rules = rules;
        this.collection = collection;
        this.store = store;
        this.uptime = uptime;
    }

    /**
     * Buckets by reports detected in [start, end), optionally of one product and release, with each one's crash
     * rate per 1,000 VM-hours and regression verdict when a release is named. No transaction: the ranking takes
     * one of its own for its query plan's settings, and the uptime ledger is asked with no connection held.
     */
    public BucketPage top(String product, String release, Instant start, Instant end, int limit, int offset)
            throws SQLException {
        Double hours = release == null
                ? null
                : uptime.vmHours(
                                product,
                                release,
                                start.atZone(ZoneOffset.UTC).toLocalDate(),
                                end.atZone(ZoneOffset.UTC).toLocalDate())
                        .orElse(null);
        List<BucketRow> rows = buckets.top(product, release, start, end, limit, offset);
        Map<UUID, RegressionDto> verdicts = new HashMap<>();
        if (release != null && !rows.isEmpty()) {
            for (var v : regressions.verdicts(rows.stream().map(BucketRow::id).toList(), product, release)) {
                verdicts.putIfAbsent(v.bucket(), RegressionDto.of(v));
            }
        }
        List<BucketDto> items = new ArrayList<>();
        for (BucketRow b : rows) {
            Double rate = hours == null || hours <= 0 ? null : b.reports() * 1000.0 / hours;
            items.add(new BucketDto(
                    b.id(),
                    b.title(),
                    b.reports(),
                    b.hosts(),
                    b.vms(),
                    b.firstSeen(),
                    b.lastSeen(),
                    rate,
                    verdicts.get(b.id())));
        }
        return new BucketPage(items, hours, limit, offset);
    }

    /** Buckets matching every criterion of the query, most reports first. */
    public SearchPage search(BucketRepository.SearchQuery query, int limit, int offset) throws SQLException {
        List<SearchDto> items = new ArrayList<>();
        for (var b : buckets.search(query, limit, offset)) {
            items.add(new SearchDto(
                    b.id(),
                    b.title(),
                    b.reports(),
                    b.firstSeen(),
                    b.lastSeen(),
                    b.functions(),
                    b.module(),
                    b.bugcheck()));
        }
        return new SearchPage(items, limit, offset);
    }

    /**
     * A bucket with its latest reports and everything analysts recorded about it; null when there is none. Read on
     * one connection, in one transaction.
     */
    @Transactional
    public BucketDetail detail(UUID id) throws SQLException, IOException {
        BucketRow b = buckets.bucket(id);
        if (b == null) {
            return null;
        }
        List<ReportDto> reports = new ArrayList<>();
        for (ReportRow r : buckets.reports(id, LATEST_REPORTS)) {
            reports.add(new ReportDto(
                    r.incidentId(),
                    r.title(),
                    r.evidence(),
                    r.product(),
                    r.release(),
                    r.vmUuid(),
                    r.vmName(),
                    r.hostId(),
                    r.trigger(),
                    r.detectedAt(),
                    r.complete(),
                    r.provisional(),
                    artifacts(r.artifactsJson())));
        }
        CurationService.Merge merge = curation.mergeOf(id);
        return new BucketDetail(
                b.id(),
                b.title(),
                b.symbolicKey(),
                b.rulesVersion(),
                b.reports(),
                b.hosts(),
                b.vms(),
                b.firstSeen(),
                b.lastSeen(),
                merge == null ? null : MergeDto.of(merge),
                curation.mergedFrom(id),
                notes(id, "note"),
                notes(id, "link"),
                regressions.verdicts(List.of(id), null, null).stream()
                        .map(RegressionDto::of)
                        .toList(),
                CollectionPolicyDto.of(collection.view(id)),
                rules.keys(id, MAX_KEYS).stream()
                        .map(k -> new KeyDto(k.rulesVersion(), k.symbolicKey()))
                        .toList(),
                reports);
    }

    private List<NoteDto> notes(UUID bucket, String kind) throws SQLException {
        return curation.notes(bucket, kind, MAX_NOTES).stream().map(NoteDto::of).toList();
    }

    /** A report's artifacts as stored at filing, each verified one with a link that works for a short while. */
    private List<ArtifactDto> artifacts(String json) throws IOException {
        List<ArtifactDto> list = new ArrayList<>();
        for (Map<String, Object> a :
                JSON.readValue(json, new TypeReference<List<LinkedHashMap<String, Object>>>() {})) {
            String status = String.valueOf(a.get("status"));
            String key = String.valueOf(a.get("objectKey"));
            list.add(new ArtifactDto(
                    String.valueOf(a.get("kind")),
                    String.valueOf(a.get("format")),
                    ((Number) a.get("sizeBytes")).longValue(),
                    String.valueOf(a.get("sha256")),
                    status,
                    "VERIFIED".equals(status) ? store.link(key) : null));
        }
        return list;
    }
}
