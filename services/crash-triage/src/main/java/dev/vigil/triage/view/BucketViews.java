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
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
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
     * Reports of each bucket per UTC day of [first, last], optionally of one product and/or release; a bucket
     * without reports there (or unknown) gets zeros.
     */
    public TrendPage trends(List<UUID> ids, String product, String release, LocalDate first, LocalDate last)
            throws SQLException {
        List<LocalDate> days = days(first, last);
        Map<UUID, long[]> counts = new LinkedHashMap<>();
        for (UUID id : ids) {
            counts.put(id, new long[days.size()]);
        }
        for (var d : buckets.daily(ids, product, release, first, last.plusDays(1))) {
            counts.get(d.bucket())[(int) ChronoUnit.DAYS.between(first, d.day())] += d.reports();
        }
        Map<UUID, List<Long>> series = new LinkedHashMap<>();
        counts.forEach((id, perDay) -> series.put(id, boxed(perDay)));
        return new TrendPage(days, series);
    }

    /**
     * A bucket's reports per product release and UTC day of [first, last], releases with most reports first; null
     * when there is no such bucket.
     */
    public HistoryDto history(UUID id, LocalDate first, LocalDate last) throws SQLException {
        if (!curation.exists(id)) {
            return null;
        }
        List<LocalDate> days = days(first, last);
        record Release(String product, String release) {}
        Map<Release, long[]> counts = new HashMap<>();
        for (var d : buckets.dailyByRelease(id, first, last.plusDays(1))) {
            long[] perDay = counts.computeIfAbsent(new Release(d.product(), d.release()), k -> new long[days.size()]);
            perDay[(int) ChronoUnit.DAYS.between(first, d.day())] += d.reports();
        }
        List<ReleaseSeries> releases = new ArrayList<>();
        counts.forEach((r, perDay) -> releases.add(new ReleaseSeries(
                r.product(), r.release(), Arrays.stream(perDay).sum(), boxed(perDay))));
        releases.sort(Comparator.comparingLong(ReleaseSeries::total)
                .reversed()
                .thenComparing(ReleaseSeries::product)
                .thenComparing(ReleaseSeries::release));
        return new HistoryDto(id, days, releases);
    }

    /** The product releases with reports in the UTC days [first, last], latest report first. */
    public ReleaseListDto releases(LocalDate first, LocalDate last) throws SQLException {
        List<ReleaseSummaryDto> items = new ArrayList<>();
        for (var r : buckets.releases(first, last.plusDays(1))) {
            items.add(new ReleaseSummaryDto(
                    r.product(), r.release(), r.reports(), r.buckets(), r.firstSeen(), r.lastSeen()));
        }
        return new ReleaseListDto(first, last, items);
    }

    private static List<LocalDate> days(LocalDate first, LocalDate last) {
        return first.datesUntil(last.plusDays(1)).toList();
    }

    private static List<Long> boxed(long[] counts) {
        return Arrays.stream(counts).boxed().toList();
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
                    artifacts(r.incidentId(), r.artifactsJson())));
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

    /**
     * A report's artifacts as stored at filing: each verified one with the path that serves it through triage, and
     * an unencrypted one also with a link to the store that works for a short while (an encrypted one's stored bytes
     * are of no use to a reader).
     */
    private List<ArtifactDto> artifacts(String incidentId, String json) throws IOException {
        List<ArtifactDto> list = new ArrayList<>();
        for (Map<String, Object> a :
                JSON.readValue(json, new TypeReference<List<LinkedHashMap<String, Object>>>() {})) {
            String status = String.valueOf(a.get("status"));
            String key = String.valueOf(a.get("objectKey"));
            String kind = String.valueOf(a.get("kind"));
            boolean verified = "VERIFIED".equals(status);
            boolean encrypted = a.get("encryption") != null;
            list.add(new ArtifactDto(
                    kind,
                    String.valueOf(a.get("format")),
                    ((Number) a.get("sizeBytes")).longValue(),
                    String.valueOf(a.get("sha256")),
                    status,
                    verified && !encrypted ? store.link(key) : null,
                    encrypted,
                    verified
                            ? "/api/v1/reports/"
                                    + URLEncoder.encode(incidentId, StandardCharsets.UTF_8)
                                            .replace("+", "%20") + "/artifacts/" + kind
                            : null));
        }
        return list;
    }
}
