package dev.vigil.triage.view;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.triage.bucket.BucketRepository;
import dev.vigil.triage.bucket.BucketRepository.BucketRow;
import dev.vigil.triage.bucket.BucketRepository.ReportRow;
import dev.vigil.triage.bucket.CurationService;
import dev.vigil.triage.bucket.EvidenceStore;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.regression.RegressionRepository;
import dev.vigil.triage.rules.RulesRepository;
import dev.vigil.triage.uptime.UptimeClient;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.sql.Connection;
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

    private final AgroalDataSource db;
    private final EvidenceStore store;
    private final UptimeClient uptime;
    private final CollectionPolicyService collection;

    BucketViews(AgroalDataSource db, EvidenceStore store, UptimeClient uptime, CollectionPolicyService collection) {
        this.db = db;
        this.store = store;
        this.uptime = uptime;
        this.collection = collection;
    }

    /**
     * Buckets by reports detected in [start, end), optionally of one product and release, with each one's crash
     * rate per 1,000 VM-hours and regression verdict when a release is named.
     */
    public BucketPage top(String product, String release, Instant start, Instant end, int limit, int offset)
            throws SQLException {
        try (Connection c = db.getConnection()) {
            Double hours = release == null
                    ? null
                    : uptime.vmHours(
                                    product,
                                    release,
                                    start.atZone(ZoneOffset.UTC).toLocalDate(),
                                    end.atZone(ZoneOffset.UTC).toLocalDate())
                            .orElse(null);
            List<BucketRow> rows = BucketRepository.top(c, product, release, start, end, limit, offset);
            Map<UUID, RegressionDto> regressions = new HashMap<>();
            if (release != null && !rows.isEmpty()) {
                for (var v : RegressionRepository.verdicts(
                        c, rows.stream().map(BucketRow::id).toList(), product, release)) {
                    regressions.putIfAbsent(v.bucket(), RegressionDto.of(v));
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
                        regressions.get(b.id())));
            }
            return new BucketPage(items, hours, limit, offset);
        }
    }

    /** Buckets matching every criterion of the query, most reports first. */
    public SearchPage search(BucketRepository.SearchQuery query, int limit, int offset) throws SQLException {
        try (Connection c = db.getConnection()) {
            List<SearchDto> items = new ArrayList<>();
            for (var b : BucketRepository.search(c, query, limit, offset)) {
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
    }

    /** A bucket with its latest reports and everything analysts recorded about it; null when there is none. */
    public BucketDetail detail(UUID id) throws SQLException, IOException {
        try (Connection c = db.getConnection()) {
            BucketRow b = BucketRepository.bucket(c, id);
            if (b == null) {
                return null;
            }
            List<ReportDto> reports = new ArrayList<>();
            for (ReportRow r : BucketRepository.reports(c, id, LATEST_REPORTS)) {
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
            CurationService.Merge merge = CurationService.mergeOf(c, id);
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
                    CurationService.mergedFrom(c, id),
                    notes(c, id, "note"),
                    notes(c, id, "link"),
                    RegressionRepository.verdicts(c, List.of(id), null, null).stream()
                            .map(RegressionDto::of)
                            .toList(),
                    CollectionPolicyDto.of(collection.view(c, id)),
                    RulesRepository.keys(c, id, MAX_KEYS).stream()
                            .map(k -> new KeyDto(k.rulesVersion(), k.symbolicKey()))
                            .toList(),
                    reports);
        }
    }

    private static List<NoteDto> notes(Connection c, UUID bucket, String kind) throws SQLException {
        return CurationService.notes(c, bucket, kind, MAX_NOTES).stream()
                .map(NoteDto::of)
                .toList();
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
