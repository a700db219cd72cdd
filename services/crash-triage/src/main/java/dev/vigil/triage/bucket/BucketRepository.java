package dev.vigil.triage.bucket;

import dev.vigil.triage.collection.FullDumps;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Buckets and their reports in PostgreSQL (schema {@code triage}), in plain SQL. Each method runs on the connection of
 * the caller's transaction (one of its own when there is none); the static ones, on the connection given, are the
 * same SQL for code that manages its own (benchmarks, tests).
 */
@ApplicationScoped
public class BucketRepository {

    private final AgroalDataSource db;

    BucketRepository(AgroalDataSource db) {
        this.db = db;
    }

    /** Stores a report unless its incident is stored ({@link #insertIfAbsent(Connection, NewReport, int, SearchFacts)}). */
    @Transactional(Transactional.TxType.MANDATORY)
    Filed insertIfAbsent(NewReport r, int rulesVersion, SearchFacts facts) throws SQLException {
        try (Connection c = db.getConnection()) {
            return insertIfAbsent(c, r, rulesVersion, facts);
        }
    }

    /** Counts a stored report into its bucket ({@link #countInto(Connection, NewReport, UUID)}). */
    @Transactional(Transactional.TxType.MANDATORY)
    void countInto(NewReport r, UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            countInto(c, r, bucket);
        }
    }

    /** The incident's provisional report, locked until the transaction ends ({@link #provisional(Connection, String)}). */
    @Transactional(Transactional.TxType.MANDATORY)
    Provisional provisional(String incidentId) throws SQLException {
        try (Connection c = db.getConnection()) {
            return provisional(c, incidentId);
        }
    }

    /** Refines a provisional report ({@link #refine(Connection, NewReport, int, SearchFacts, Provisional)}). */
    @Transactional(Transactional.TxType.MANDATORY)
    Filed refine(NewReport r, int rulesVersion, SearchFacts facts, Provisional was) throws SQLException {
        try (Connection c = db.getConnection()) {
            return refine(c, r, rulesVersion, facts, was);
        }
    }

    /** The bucket a bucket was merged into, or null, after a key-share lock ({@link #mergedInto(Connection, UUID)}). */
    @Transactional(Transactional.TxType.MANDATORY)
    UUID mergedInto(UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            return mergedInto(c, bucket);
        }
    }

    /** Recounts a bucket and rebuilds its roll-ups from its reports ({@link #recount(Connection, UUID)}). */
    @Transactional(Transactional.TxType.MANDATORY)
    void recount(UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            recount(c, bucket);
        }
    }

    /** The top buckets of a window ({@link #top(Connection, String, String, Instant, Instant, int, int)}). */
    public List<BucketRow> top(String product, String release, Instant from, Instant to, int limit, int offset)
            throws SQLException {
        try (Connection c = db.getConnection()) {
            return top(c, product, release, from, to, limit, offset);
        }
    }

    /** Buckets matching a search ({@link #search(Connection, SearchQuery, int, int)}). */
    public List<SearchRow> search(SearchQuery q, int limit, int offset) throws SQLException {
        try (Connection c = db.getConnection()) {
            return search(c, q, limit, offset);
        }
    }

    /** A bucket, or null. */
    public BucketRow bucket(UUID id) throws SQLException {
        try (Connection c = db.getConnection()) {
            return bucket(c, id);
        }
    }

    /** A bucket's latest reports, latest first. */
    public List<ReportRow> reports(UUID bucket, int limit) throws SQLException {
        try (Connection c = db.getConnection()) {
            return reports(c, bucket, limit);
        }
    }

    /** A report's artifacts as stored at filing (JSON), or null when there is no such report. */
    public String artifactsOf(String incidentId) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT artifacts FROM report WHERE incident_id = ?")) {
            s.setString(1, incidentId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Reports per bucket and UTC day ({@link #daily(Connection, List, String, String, LocalDate, LocalDate)}). */
    public List<DayCount> daily(List<UUID> buckets, String product, String release, LocalDate from, LocalDate to)
            throws SQLException {
        try (Connection c = db.getConnection()) {
            return daily(c, buckets, product, release, from, to);
        }
    }

    /** A bucket's reports per release and UTC day ({@link #dailyByRelease(Connection, UUID, LocalDate, LocalDate)}). */
    public List<ReleaseDayCount> dailyByRelease(UUID bucket, LocalDate from, LocalDate to) throws SQLException {
        try (Connection c = db.getConnection()) {
            return dailyByRelease(c, bucket, from, to);
        }
    }

    /** The releases with reports in a window ({@link #releases(Connection, LocalDate, LocalDate)}). */
    public List<ReleaseRow> releases(LocalDate from, LocalDate to) throws SQLException {
        try (Connection c = db.getConnection()) {
            return releases(c, from, to);
        }
    }

    /** A bucket as the API shows it. */
    public record BucketRow(
            UUID id,
            String title,
            String symbolicKey,
            int rulesVersion,
            long reports,
            long hosts,
            long vms,
            Instant firstSeen,
            Instant lastSeen) {}

    /** A report as the API shows it. */
    public record ReportRow(
            String incidentId,
            String title,
            String evidence,
            String instantKey,
            String product,
            String release,
            String vmUuid,
            String vmName,
            String hostId,
            String trigger,
            Instant detectedAt,
            boolean complete,
            String artifactsJson,
            boolean provisional) {}

    /** The report's fields to store. */
    public record NewReport(
            String incidentId,
            String title,
            String instantKey,
            String symbolicKey,
            String evidence,
            String product,
            String release,
            String vmUuid,
            String vmName,
            String hostId,
            String trigger,
            Instant detectedAt,
            boolean complete,
            String factsJson,
            String artifactsJson,
            boolean provisional) {}

    /**
     * Where a report was filed.
     *
     * @param bucket the bucket it counts in
     * @param created whether this filing made the bucket of its key (announced as new once, by this filing)
     */
    record Filed(UUID bucket, boolean created) {}

    /** Where a stored provisional report counts: its bucket, release and time. */
    record Provisional(UUID bucket, String product, String release, Instant detectedAt) {}

    /**
     * What a bucket is searched by, from the signature that made it.
     *
     * @param functions the signature's frames, blamed function first
     * @param module the faulting module (Linux), or null for the core kernel or when unknown
     * @param bugcheck the Windows STOP code as {@code 0x50}, or null
     */
    public record SearchFacts(List<String> functions, String module, String bugcheck) {}

    /** A bucket found by a search. */
    public record SearchRow(
            UUID id,
            String title,
            long reports,
            Instant firstSeen,
            Instant lastSeen,
            List<String> functions,
            String module,
            String bugcheck) {}

    /** The criteria of a bucket search; null ones are left out. */
    public record SearchQuery(
            String text, String function, String module, String bugcheck, String product, String release) {}

    /** A bucket's reports detected in one UTC day. */
    public record DayCount(UUID bucket, LocalDate day, long reports) {}

    /** A bucket's reports of one product and release detected in one UTC day ('' for an unknown one). */
    public record ReleaseDayCount(String product, String release, LocalDate day, long reports) {}

    /**
     * A product and release ('' for an unknown one) with reports in a window.
     *
     * @param buckets the buckets its reports count in
     * @param firstSeen its first report in the window
     * @param lastSeen its last report in the window
     */
    public record ReleaseRow(
            String product, String release, long reports, long buckets, Instant firstSeen, Instant lastSeen) {}

    /**
     * The id of a bucket made for a new symbolic key: derived from the key, so a replay finds the same one. A key of
     * a later rules version that stored reports sign to files into their existing bucket instead
     * ({@code bucket_key}).
     */
    public static UUID bucketId(String symbolicKey) {
        return UUID.nameUUIDFromBytes(("bucket:" + symbolicKey).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Counts a stored report into its bucket (the row lock serializes concurrent reports of one bucket). */
    static void countInto(Connection c, NewReport r, UUID bucket) throws SQLException {
        if (r.product() != null && r.release() != null) {
            try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO release_seen AS rs (product, release, first_report_at, last_report_at)"
                            + " VALUES (?, ?, ?, ?) ON CONFLICT (product, release) DO UPDATE SET"
                            + " first_report_at = least(rs.first_report_at, excluded.first_report_at),"
                            + " last_report_at = greatest(rs.last_report_at, excluded.last_report_at)")) {
                s.setString(1, r.product());
                s.setString(2, r.release());
                s.setTimestamp(3, Timestamp.from(r.detectedAt()));
                s.setTimestamp(4, Timestamp.from(r.detectedAt()));
                s.executeUpdate();
            }
        }
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO bucket_release AS br (bucket_id, product, release, report_count, first_seen, last_seen)"
                        + " VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (bucket_id, product, release) DO UPDATE SET"
                        + " report_count = br.report_count + 1, first_seen = least(br.first_seen, excluded.first_seen),"
                        + " last_seen = greatest(br.last_seen, excluded.last_seen)")) {
            s.setObject(1, bucket);
            s.setString(2, r.product() == null ? "" : r.product());
            s.setString(3, r.release() == null ? "" : r.release());
            s.setTimestamp(4, Timestamp.from(r.detectedAt()));
            s.setTimestamp(5, Timestamp.from(r.detectedAt()));
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE bucket SET report_count = report_count + 1, first_seen = least(first_seen, ?),"
                        + " last_seen = greatest(last_seen, ?) WHERE id = ?")) {
            s.setTimestamp(1, Timestamp.from(r.detectedAt()));
            s.setTimestamp(2, Timestamp.from(r.detectedAt()));
            s.setObject(3, bucket);
            s.executeUpdate();
        }
        tally(c, r, bucket);
    }

    /**
     * The roll-ups the top-buckets ranking reads, for one more report: its day and hour, for the fleet and for its
     * release, and its host and VM added to its day's sketches. One statement; under the bucket's row lock, taken
     * by {@link #countInto}, so concurrent reports of a bucket update its rows one after the other.
     */
    private static void tally(Connection c, NewReport r, UUID bucket) throws SQLException {
        String periods = " FROM f, (VALUES ('d'::\"char\", 'day'), ('h'::\"char\", 'hour')) g (grain, unit)";
        String counted = " DO UPDATE SET reports = t.reports + 1, first_at = least(t.first_at, excluded.first_at),"
                + " last_at = greatest(t.last_at, excluded.last_at)";
        try (PreparedStatement s = c.prepareStatement("WITH f AS (SELECT ?::uuid AS b, ?::text AS p, ?::text AS r,"
                + " ?::timestamptz AS at, ?::text AS host, ?::text AS vm),"
                + " ft AS (INSERT INTO bucket_tally AS t (grain, period, bucket_id, reports, first_at, last_at)"
                + " SELECT g.grain, date_trunc(g.unit, f.at, 'UTC'), f.b, 1, f.at, f.at" + periods
                + " ON CONFLICT (grain, period, bucket_id)" + counted + "),"
                + " rt AS (INSERT INTO release_tally AS t (product, release, grain, period, bucket_id, reports,"
                + " first_at, last_at) SELECT f.p, f.r, g.grain, date_trunc(g.unit, f.at, 'UTC'), f.b, 1, f.at, f.at"
                + periods + " ON CONFLICT (product, release, grain, period, bucket_id)" + counted + "),"
                + " fr AS (INSERT INTO bucket_reach AS x (bucket_id, day, hosts, vms)"
                + " SELECT f.b, date_trunc('day', f.at, 'UTC'), reach_add(reach_empty(), f.host),"
                + " reach_add(reach_empty(), f.vm) FROM f ON CONFLICT (bucket_id, day) DO UPDATE SET"
                + " hosts = reach_add(x.hosts, ?), vms = reach_add(x.vms, ?))"
                + " INSERT INTO release_reach AS x (product, release, bucket_id, day, hosts, vms)"
                + " SELECT f.p, f.r, f.b, date_trunc('day', f.at, 'UTC'), reach_add(reach_empty(), f.host),"
                + " reach_add(reach_empty(), f.vm) FROM f ON CONFLICT (product, release, bucket_id, day) DO UPDATE SET"
                + " hosts = reach_add(x.hosts, ?), vms = reach_add(x.vms, ?)")) {
            s.setObject(1, bucket);
            s.setString(2, r.product() == null ? "" : r.product());
            s.setString(3, r.release() == null ? "" : r.release());
            s.setTimestamp(4, Timestamp.from(r.detectedAt()));
            s.setString(5, r.hostId());
            s.setString(6, r.vmUuid());
            s.setString(7, r.hostId());
            s.setString(8, r.vmUuid());
            s.setString(9, r.hostId());
            s.setString(10, r.vmUuid());
            s.executeUpdate();
        }
    }

    /**
     * Stores a report unless its incident is already stored, with its keys under the rules it was signed with, into
     * the bucket its symbolic key files into (made first for a key never seen) or the one an admin merged that into;
     * returns the bucket it counts in, or null when the report was stored before. The bucket is counted afterwards
     * by {@link #countInto}.
     */
    static Filed insertIfAbsent(Connection c, NewReport r, int rulesVersion, SearchFacts facts) throws SQLException {
        Filed origin = origin(c, r, rulesVersion, facts);
        UUID merged = mergedInto(c, origin.bucket());
        UUID bucket = merged == null ? origin.bucket() : merged;
        if (!insert(c, r, origin.bucket(), bucket)) {
            return null;
        }
        addKey(c, r, rulesVersion);
        return new Filed(bucket, origin.created());
    }

    /** The bucket a report's symbolic key files into, made first for a key never seen. */
    private static Filed origin(Connection c, NewReport r, int rulesVersion, SearchFacts facts) throws SQLException {
        UUID known = keyed(c, r.symbolicKey());
        if (known != null) {
            return new Filed(known, false);
        }
        boolean created;
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO bucket (id, symbolic_key, title, rules_version, report_count, first_seen, last_seen,"
                        + " functions, module, bugcheck) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (symbolic_key) DO NOTHING")) {
            s.setObject(1, bucketId(r.symbolicKey()));
            s.setString(2, r.symbolicKey());
            s.setString(3, r.title());
            s.setInt(4, rulesVersion);
            s.setTimestamp(5, Timestamp.from(r.detectedAt()));
            s.setTimestamp(6, Timestamp.from(r.detectedAt()));
            s.setArray(7, c.createArrayOf("text", facts.functions().toArray()));
            s.setString(8, facts.module());
            s.setString(9, facts.bugcheck());
            created = s.executeUpdate() == 1;
        }
        try (PreparedStatement s = c.prepareStatement("INSERT INTO bucket_key (symbolic_key, rules_version,"
                + " bucket_id) VALUES (?, ?, ?) ON CONFLICT (symbolic_key) DO NOTHING")) {
            s.setString(1, r.symbolicKey());
            s.setInt(2, rulesVersion);
            s.setObject(3, bucketId(r.symbolicKey()));
            s.executeUpdate();
        }
        // Read back: a concurrent filing of the same new key may have won; both land in its bucket.
        return new Filed(keyed(c, r.symbolicKey()), created);
    }

    private static void addKey(Connection c, NewReport r, int rulesVersion) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO report_key (incident_id, rules_version,"
                + " instant_key, symbolic_key, title) VALUES (?, ?, ?, ?, ?)")) {
            s.setString(1, r.incidentId());
            s.setInt(2, rulesVersion);
            s.setString(3, r.instantKey());
            s.setString(4, r.symbolicKey());
            s.setString(5, r.title());
            s.executeUpdate();
        }
    }

    /**
     * The incident's stored report if it is provisional, locked for update until the transaction ends, so that one
     * refinement moves it; null when it is not stored or no longer provisional.
     */
    static Provisional provisional(Connection c, String incidentId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT bucket_id, coalesce(product, ''), coalesce(release, ''),"
                + " detected_at FROM report WHERE incident_id = ? AND provisional FOR UPDATE")) {
            s.setString(1, incidentId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? new Provisional(
                                rs.getObject(1, UUID.class),
                                rs.getString(2),
                                rs.getString(3),
                                rs.getTimestamp(4).toInstant())
                        : null;
            }
        }
    }

    /**
     * Replaces an incident's provisional report by the report with its evidence: its title, keys, evidence and
     * artifacts, and the bucket those file into (made for a new key, or the one it was merged into). When that is
     * another bucket, the report stops counting in the provisional one (its count, its release's, and the roll-ups
     * of that day, rebuilt from the reports left); counting it into the new one is left to {@link #countInto}.
     *
     * @return where the report counts now
     */
    static Filed refine(Connection c, NewReport r, int rulesVersion, SearchFacts facts, Provisional was)
            throws SQLException {
        Filed filed = origin(c, r, rulesVersion, facts);
        UUID origin = filed.bucket();
        UUID merged = mergedInto(c, origin);
        UUID bucket = merged == null ? origin : merged;
        try (PreparedStatement s = c.prepareStatement("UPDATE report SET bucket_id = ?, origin_bucket_id = ?,"
                + " title = ?, instant_key = ?, symbolic_key = ?, evidence = ?, vm_name = ?, complete = ?, facts = ?,"
                + " artifacts = ?, provisional = false WHERE incident_id = ?")) {
            s.setObject(1, bucket);
            s.setObject(2, origin);
            s.setString(3, r.title());
            s.setString(4, r.instantKey());
            s.setString(5, r.symbolicKey());
            s.setString(6, r.evidence());
            s.setString(7, r.vmName());
            s.setBoolean(8, r.complete());
            s.setString(9, r.factsJson());
            s.setString(10, r.artifactsJson());
            s.setString(11, r.incidentId());
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement("DELETE FROM report_key WHERE incident_id = ?")) {
            s.setString(1, r.incidentId());
            s.executeUpdate();
        }
        addKey(c, r, rulesVersion);
        if (!bucket.equals(was.bucket())) {
            uncount(c, was);
        }
        return new Filed(bucket, filed.created());
    }

    /** Takes a report that moved to another bucket out of the counts of the one it was in (its row is updated). */
    private static void uncount(Connection c, Provisional was) throws SQLException {
        for (String sql : List.of(
                "UPDATE bucket SET report_count = report_count - 1 WHERE id = ?",
                "UPDATE bucket_release SET report_count = report_count - 1 WHERE bucket_id = ? AND product = ?"
                        + " AND release = ?",
                "DELETE FROM bucket_release WHERE bucket_id = ? AND product = ? AND release = ? AND report_count = 0")) {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                s.setObject(1, was.bucket());
                if (sql.contains("product")) {
                    s.setString(2, was.product());
                    s.setString(3, was.release());
                }
                s.executeUpdate();
            }
        }
        retally(c, was.bucket(), was.detectedAt().truncatedTo(ChronoUnit.DAYS));
    }

    /** The bucket a symbolic key of any rules version files into, or null for a key never seen. */
    private static UUID keyed(Connection c, String symbolicKey) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT bucket_id FROM bucket_key WHERE symbolic_key = ?")) {
            s.setString(1, symbolicKey);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getObject(1, UUID.class) : null;
            }
        }
    }

    /**
     * The bucket a bucket was merged into, or null. Takes a key-share lock on the bucket first, so a merge in progress
     * (which locks it for update) is waited for and then seen: no report lands in a bucket being merged away. Key
     * share, not share: filings count into the bucket with a plain UPDATE, which a share lock held by another filing
     * would block, and two filings holding share locks would deadlock.
     */
    static UUID mergedInto(Connection c, UUID bucket) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM bucket WHERE id = ? FOR KEY SHARE")) {
            s.setObject(1, bucket);
            s.executeQuery().close();
        }
        // A new statement, so a new snapshot under READ COMMITTED: it sees a merge committed while we waited.
        try (PreparedStatement s =
                c.prepareStatement("SELECT target_bucket_id FROM bucket_merge WHERE source_bucket_id = ?")) {
            s.setObject(1, bucket);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getObject(1, UUID.class) : null;
            }
        }
    }

    private static boolean insert(Connection c, NewReport r, UUID origin, UUID bucket) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO report (incident_id, bucket_id, title, instant_key, symbolic_key, evidence, product,"
                        + " release, vm_uuid, vm_name, host_id, trigger, detected_at, complete, facts, artifacts,"
                        + " origin_bucket_id, provisional) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT DO NOTHING")) {
            s.setString(1, r.incidentId());
            s.setObject(2, bucket);
            s.setString(3, r.title());
            s.setString(4, r.instantKey());
            s.setString(5, r.symbolicKey());
            s.setString(6, r.evidence());
            s.setString(7, r.product());
            s.setString(8, r.release());
            s.setString(9, r.vmUuid());
            s.setString(10, r.vmName());
            s.setString(11, r.hostId());
            s.setString(12, r.trigger());
            s.setTimestamp(13, Timestamp.from(r.detectedAt()));
            s.setBoolean(14, r.complete());
            s.setString(15, r.factsJson());
            s.setString(16, r.artifactsJson());
            s.setObject(17, origin);
            s.setBoolean(18, r.provisional());
            return s.executeUpdate() == 1;
        }
    }

    /**
     * Buckets by reports in [from, to), most first (then the latest report first), optionally for one product and
     * release. The ranking sums the roll-ups ({@link #tally}) of the window's whole UTC days and hours and counts
     * the reports of the minutes at its edges, so its cost grows with buckets and days, not with reports. Hosts and
     * VMs are estimated from the sketches of the UTC days the window touches ({@link Reach}).
     */
    public static List<BucketRow> top(
            Connection c, String product, String release, Instant from, Instant to, int limit, int offset)
            throws SQLException {
        List<Span> spans = Span.of(from, to);
        if (spans.isEmpty()) {
            return List.of();
        }
        boolean scoped = product != null || release != null;
        StringBuilder sql = new StringBuilder("SELECT x.bucket_id, sum(x.n), min(x.f), max(x.l) FROM (");
        List<Object> args = new ArrayList<>();
        String union = "";
        for (Span span : spans) {
            sql.append(union);
            union = " UNION ALL ";
            if (span.grain() == null) {
                sql.append("SELECT r.bucket_id, 1::bigint AS n, r.detected_at AS f, r.detected_at AS l FROM report r"
                        + " WHERE r.detected_at >= ? AND r.detected_at < ?");
                sql.append(product == null ? "" : " AND r.product = ?");
                sql.append(release == null ? "" : " AND r.release = ?");
            } else {
                sql.append("SELECT t.bucket_id, t.reports AS n, t.first_at AS f, t.last_at AS l FROM ")
                        .append(scoped ? "release_tally" : "bucket_tally")
                        .append(" t WHERE t.grain = '")
                        .append(span.grain())
                        .append("' AND t.period >= ? AND t.period < ?");
                sql.append(product == null ? "" : " AND t.product = ?");
                sql.append(release == null ? "" : " AND t.release = ?");
            }
            args.add(Timestamp.from(span.from()));
            args.add(Timestamp.from(span.to()));
            if (product != null) {
                args.add(product);
            }
            if (release != null) {
                args.add(release);
            }
        }
        sql.append(") x GROUP BY x.bucket_id ORDER BY sum(x.n) DESC, max(x.l) DESC, x.bucket_id LIMIT ? OFFSET ?");
        args.add(limit);
        args.add(offset);
        record Ranked(UUID id, long reports, Instant first, Instant last) {}
        List<Ranked> ranked = new ArrayList<>();
        // Serial: the ranking reads tens of thousands of small rows, which two workers would take longer to start
        // than to read (measured: 24 ms alone, 50-100 ms with workers on two cores). Only for this transaction.
        // In the caller's transaction; a connection without one gets one for the ranking alone, rolled back after.
        boolean autoCommit = c.getAutoCommit();
        if (autoCommit) {
            c.setAutoCommit(false);
        }
        try (Statement serial = c.createStatement()) {
            serial.execute("SET LOCAL max_parallel_workers_per_gather = 0");
        }
        try (PreparedStatement s = c.prepareStatement(sql.toString())) {
            // Planned for this window each time: a generic plan, made without its bounds, scans whole roll-ups.
            s.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
            for (int i = 0; i < args.size(); i++) {
                s.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ranked.add(new Ranked(
                            rs.getObject(1, UUID.class),
                            rs.getLong(2),
                            rs.getTimestamp(3).toInstant(),
                            rs.getTimestamp(4).toInstant()));
                }
            }
        } finally {
            if (autoCommit) {
                c.rollback(); // it only read
                c.setAutoCommit(true);
            }
        }
        if (ranked.isEmpty()) {
            return List.of();
        }
        Object[] ids = ranked.stream().map(Ranked::id).toArray();
        record Named(String title, String symbolicKey, int rulesVersion) {}
        java.util.Map<UUID, Named> names = new java.util.HashMap<>();
        try (PreparedStatement s =
                c.prepareStatement("SELECT id, title, symbolic_key, rules_version FROM bucket WHERE id = ANY (?)")) {
            s.setArray(1, c.createArrayOf("uuid", ids));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    names.put(rs.getObject(1, UUID.class), new Named(rs.getString(2), rs.getString(3), rs.getInt(4)));
                }
            }
        }
        java.util.Map<UUID, Reach> hosts = new java.util.HashMap<>();
        java.util.Map<UUID, Reach> vms = new java.util.HashMap<>();
        try (PreparedStatement s = c.prepareStatement("SELECT x.bucket_id, x.hosts, x.vms FROM "
                + (scoped ? "release_reach" : "bucket_reach") + " x WHERE x.bucket_id = ANY (?)"
                + " AND x.day >= ? AND x.day < ?" + (product == null ? "" : " AND x.product = ?")
                + (release == null ? "" : " AND x.release = ?"))) {
            int n = 1;
            s.setArray(n++, c.createArrayOf("uuid", ids));
            s.setTimestamp(n++, Timestamp.from(from.truncatedTo(ChronoUnit.DAYS)));
            s.setTimestamp(n++, Timestamp.from(Span.ceil(to, ChronoUnit.DAYS)));
            if (product != null) {
                s.setString(n++, product);
            }
            if (release != null) {
                s.setString(n, release);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    UUID id = rs.getObject(1, UUID.class);
                    hosts.computeIfAbsent(id, k -> new Reach()).add(rs.getBytes(2));
                    vms.computeIfAbsent(id, k -> new Reach()).add(rs.getBytes(3));
                }
            }
        }
        List<BucketRow> page = new ArrayList<>();
        for (Ranked r : ranked) {
            Named name = names.get(r.id());
            page.add(new BucketRow(
                    r.id(),
                    name.title(),
                    name.symbolicKey(),
                    name.rulesVersion(),
                    r.reports(),
                    Math.min(
                            r.reports(), hosts.getOrDefault(r.id(), new Reach()).estimate()),
                    Math.min(r.reports(), vms.getOrDefault(r.id(), new Reach()).estimate()),
                    r.first(),
                    r.last()));
        }
        return page;
    }

    /**
     * A part of a window answered at one grain: {@code 'd'} (whole UTC days) and {@code 'h'} (whole hours) from the
     * roll-ups, null (the minutes at the window's edges) from the reports.
     */
    record Span(Character grain, Instant from, Instant to) {

        /** The window [from, to) as its edge minutes, whole hours and whole days; empty for an empty window. */
        static List<Span> of(Instant from, Instant to) {
            List<Span> spans = new ArrayList<>();
            Instant h1 = ceil(from, ChronoUnit.HOURS);
            Instant h2 = to.truncatedTo(ChronoUnit.HOURS);
            if (!h1.isBefore(h2)) {
                add(spans, null, from, to);
                return spans;
            }
            add(spans, null, from, h1);
            Instant d1 = ceil(h1, ChronoUnit.DAYS);
            Instant d2 = h2.truncatedTo(ChronoUnit.DAYS);
            if (!d1.isBefore(d2)) {
                add(spans, 'h', h1, h2);
            } else {
                add(spans, 'h', h1, d1);
                add(spans, 'd', d1, d2);
                add(spans, 'h', d2, h2);
            }
            add(spans, null, h2, to);
            return spans;
        }

        private static void add(List<Span> spans, Character grain, Instant from, Instant to) {
            if (from.isBefore(to)) {
                spans.add(new Span(grain, from, to));
            }
        }

        static Instant ceil(Instant t, ChronoUnit unit) {
            Instant floor = t.truncatedTo(unit);
            return floor.equals(t) ? t : floor.plus(1, unit);
        }
    }

    /**
     * Buckets matching every given criterion, most reports first. Each criterion has its index: title text by
     * trigrams, functions by a GIN array index, module and bugcheck by b-trees, release through
     * {@code bucket_release}.
     */
    static List<SearchRow> search(Connection c, SearchQuery q, int limit, int offset) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT b.id, b.title, b.report_count, b.first_seen, b.last_seen,"
                + " b.functions, b.module, b.bugcheck FROM bucket b WHERE b.report_count > 0");
        List<Object> args = new ArrayList<>();
        if (q.text() != null) {
            sql.append(" AND lower(b.title) LIKE ? ESCAPE '\\'");
            args.add("%" + likeEscaped(q.text().toLowerCase(java.util.Locale.ROOT)) + "%");
        }
        if (q.function() != null) {
            sql.append(" AND b.functions @> ARRAY[?]::text[]");
            args.add(q.function());
        }
        if (q.module() != null) {
            sql.append(" AND b.module = ?");
            args.add(q.module());
        }
        if (q.bugcheck() != null) {
            sql.append(" AND b.bugcheck = ?");
            args.add(q.bugcheck());
        }
        if (q.product() != null || q.release() != null) {
            sql.append(" AND EXISTS (SELECT 1 FROM bucket_release br WHERE br.bucket_id = b.id");
            if (q.product() != null) {
                sql.append(" AND br.product = ?");
                args.add(q.product());
            }
            if (q.release() != null) {
                sql.append(" AND br.release = ?");
                args.add(q.release());
            }
            sql.append(")");
        }
        sql.append(" ORDER BY b.report_count DESC, b.id LIMIT ? OFFSET ?");
        args.add(limit);
        args.add(offset);
        try (PreparedStatement s = c.prepareStatement(sql.toString())) {
            // Planned for this window each time: a generic plan, made without its bounds, scans whole roll-ups.
            s.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
            for (int i = 0; i < args.size(); i++) {
                s.setObject(i + 1, args.get(i));
            }
            List<SearchRow> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new SearchRow(
                            rs.getObject(1, UUID.class),
                            rs.getString(2),
                            rs.getLong(3),
                            rs.getTimestamp(4).toInstant(),
                            rs.getTimestamp(5).toInstant(),
                            List.of((String[]) rs.getArray(6).getArray()),
                            rs.getString(7),
                            rs.getString(8)));
                }
            }
            return rows;
        }
    }

    private static String likeEscaped(String text) {
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    /**
     * Reports of each of the buckets per UTC day in [from, to), from the daily roll-ups ({@link #tally}): of the
     * whole fleet, or of one product and/or release when either is given. Days without reports have no row. A merge
     * rebuilds the roll-ups, so a merged bucket's reports count in its target, as in {@link #top}.
     */
    static List<DayCount> daily(
            Connection c, List<UUID> buckets, String product, String release, LocalDate from, LocalDate to)
            throws SQLException {
        boolean scoped = product != null || release != null;
        String sql = "SELECT t.bucket_id, t.period, sum(t.reports) FROM " + (scoped ? "release_tally" : "bucket_tally")
                + " t WHERE t.bucket_id = ANY (?) AND t.grain = 'd' AND t.period >= ? AND t.period < ?"
                + (product == null ? "" : " AND t.product = ?")
                + (release == null ? "" : " AND t.release = ?")
                + " GROUP BY t.bucket_id, t.period";
        try (PreparedStatement s = c.prepareStatement(sql)) {
            int n = 1;
            s.setArray(n++, c.createArrayOf("uuid", buckets.toArray()));
            s.setTimestamp(n++, dayStart(from));
            s.setTimestamp(n++, dayStart(to));
            if (product != null) {
                s.setString(n++, product);
            }
            if (release != null) {
                s.setString(n, release);
            }
            List<DayCount> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new DayCount(rs.getObject(1, UUID.class), day(rs.getTimestamp(2)), rs.getLong(3)));
                }
            }
            return rows;
        }
    }

    /** A bucket's reports per product, release and UTC day in [from, to), from the daily roll-ups per release. */
    static List<ReleaseDayCount> dailyByRelease(Connection c, UUID bucket, LocalDate from, LocalDate to)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT t.product, t.release, t.period, t.reports"
                + " FROM release_tally t WHERE t.bucket_id = ? AND t.grain = 'd' AND t.period >= ? AND t.period < ?")) {
            s.setObject(1, bucket);
            s.setTimestamp(2, dayStart(from));
            s.setTimestamp(3, dayStart(to));
            List<ReleaseDayCount> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new ReleaseDayCount(
                            rs.getString(1), rs.getString(2), day(rs.getTimestamp(3)), rs.getLong(4)));
                }
            }
            return rows;
        }
    }

    /**
     * The products and releases with reports in the UTC days [from, to), latest report first, from the daily
     * roll-ups per release; reports with neither a product nor a release are left out.
     */
    static List<ReleaseRow> releases(Connection c, LocalDate from, LocalDate to) throws SQLException {
        // Per bucket first, then per release: two hash aggregates instead of count(DISTINCT), which sorts every row.
        try (PreparedStatement s = c.prepareStatement("SELECT product, release, sum(reports), count(*), min(first_at),"
                + " max(last_at) FROM (SELECT t.product, t.release, t.bucket_id, sum(t.reports) AS reports,"
                + " min(t.first_at) AS first_at, max(t.last_at) AS last_at FROM release_tally t"
                + " WHERE t.grain = 'd' AND t.period >= ? AND t.period < ? AND (t.product <> '' OR t.release <> '')"
                + " GROUP BY t.product, t.release, t.bucket_id) per_bucket"
                + " GROUP BY product, release ORDER BY max(last_at) DESC, product, release")) {
            s.setTimestamp(1, dayStart(from));
            s.setTimestamp(2, dayStart(to));
            List<ReleaseRow> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new ReleaseRow(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getLong(3),
                            rs.getLong(4),
                            rs.getTimestamp(5).toInstant(),
                            rs.getTimestamp(6).toInstant()));
                }
            }
            return rows;
        }
    }

    /** The start of a UTC day, as the roll-ups' {@code period} holds it. */
    private static Timestamp dayStart(LocalDate day) {
        return Timestamp.from(day.atStartOfDay(ZoneOffset.UTC).toInstant());
    }

    private static LocalDate day(Timestamp period) {
        return period.toInstant().atOffset(ZoneOffset.UTC).toLocalDate();
    }

    /**
     * Recounts a bucket (reports, full dumps) and its per-release rows from its reports (after a merge or unmerge
     * moved some); first and last seen stay as they were when no report is left.
     */
    static void recount(Connection c, UUID bucket) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE bucket b SET report_count = x.n, full_dumps = x.d,"
                + " first_seen = coalesce(x.f, b.first_seen), last_seen = coalesce(x.l, b.last_seen)"
                + " FROM (SELECT count(*) AS n, count(*) FILTER (WHERE " + FullDumps.SQL_FILTER + ") AS d,"
                + " min(detected_at) AS f, max(detected_at) AS l FROM report WHERE bucket_id = ?) x WHERE b.id = ?")) {
            s.setObject(1, bucket);
            s.setObject(2, bucket);
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement("DELETE FROM bucket_release WHERE bucket_id = ?")) {
            s.setObject(1, bucket);
            s.executeUpdate();
        }
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO bucket_release (bucket_id, product, release, report_count, first_seen, last_seen)"
                        + " SELECT bucket_id, coalesce(product, ''), coalesce(release, ''), count(*),"
                        + " min(detected_at), max(detected_at) FROM report WHERE bucket_id = ?"
                        + " GROUP BY bucket_id, coalesce(product, ''), coalesce(release, '')")) {
            s.setObject(1, bucket);
            s.executeUpdate();
        }
        retally(c, bucket);
    }

    /**
     * Rebuilds the roll-ups of a bucket's reports ({@link #tally}), or of every bucket's when {@code bucket} is
     * null: what a merge or unmerge that moved reports, or a bulk load of reports, leaves behind. Counts are grouped
     * by PostgreSQL and written in order of period, as filing writes them, so that a window's rows share pages; sketches are built here from the reports in order of bucket and day, one day's at a time, with
     * the hash {@code reach_add} uses ({@link Reach#put}). Runs in the caller's transaction (auto-commit off).
     */
    public static void retally(Connection c, UUID bucket) throws SQLException {
        retally(c, bucket, null);
    }

    /**
     * As {@link #retally(Connection, UUID)}, for one UTC day of one bucket when {@code day} is not null: what moving
     * one report out of a bucket leaves behind, at the cost of that day's reports of the bucket.
     */
    static void retally(Connection c, UUID bucket, Instant day) throws SQLException {
        List<Object> args = new ArrayList<>();
        if (bucket != null) {
            args.add(bucket);
        }
        if (day != null) {
            args.add(Timestamp.from(day));
            args.add(Timestamp.from(day.plus(1, ChronoUnit.DAYS)));
        }
        String periods = " FROM report r CROSS JOIN (VALUES ('d'::\"char\", 'day'), ('h'::\"char\", 'hour')) g"
                + " (grain, unit)" + scope(bucket, day, "r.bucket_id", "r.detected_at");
        for (String sql : List.of(
                "DELETE FROM bucket_tally" + scope(bucket, day, "bucket_id", "period"),
                "DELETE FROM release_tally" + scope(bucket, day, "bucket_id", "period"),
                "DELETE FROM bucket_reach" + scope(bucket, day, "bucket_id", "day"),
                "DELETE FROM release_reach" + scope(bucket, day, "bucket_id", "day"),
                "INSERT INTO bucket_tally (grain, period, bucket_id, reports, first_at, last_at)"
                        + " SELECT g.grain, date_trunc(g.unit, r.detected_at, 'UTC'), r.bucket_id, count(*),"
                        + " min(r.detected_at), max(r.detected_at)" + periods + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                "INSERT INTO release_tally (product, release, grain, period, bucket_id, reports, first_at, last_at)"
                        + " SELECT coalesce(r.product, ''), coalesce(r.release, ''), g.grain,"
                        + " date_trunc(g.unit, r.detected_at, 'UTC'), r.bucket_id, count(*), min(r.detected_at),"
                        + " max(r.detected_at)" + periods + " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5")) {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                bind(s, args);
                s.executeUpdate();
            }
        }
        try (PreparedStatement read = c.prepareStatement("SELECT bucket_id, date_trunc('day', detected_at, 'UTC'),"
                        + " coalesce(product, ''), coalesce(release, ''), host_id, vm_uuid FROM report"
                        + scope(bucket, day, "bucket_id", "detected_at") + " ORDER BY 1, 2, 3, 4");
                PreparedStatement fleet = c.prepareStatement(
                        "INSERT INTO bucket_reach (bucket_id, day, hosts, vms) VALUES (?, ?, ?, ?)");
                PreparedStatement scoped = c.prepareStatement("INSERT INTO release_reach (product, release,"
                        + " bucket_id, day, hosts, vms) VALUES (?, ?, ?, ?, ?, ?)")) {
            bind(read, args);
            read.setFetchSize(10_000);
            ReachBuilder builder = new ReachBuilder(fleet, scoped);
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    builder.add(
                            rs.getObject(1, UUID.class),
                            rs.getTimestamp(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getString(6));
                }
            }
            builder.finish();
        }
    }

    /** The WHERE clause of {@link #retally}: one bucket (if given) and one day (if given), in that order. */
    private static String scope(UUID bucket, Instant day, String bucketColumn, String timeColumn) {
        List<String> terms = new ArrayList<>();
        if (bucket != null) {
            terms.add(bucketColumn + " = ?");
        }
        if (day != null) {
            terms.add(timeColumn + " >= ? AND " + timeColumn + " < ?");
        }
        return terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms);
    }

    private static void bind(PreparedStatement s, List<Object> args) throws SQLException {
        for (int i = 0; i < args.size(); i++) {
            s.setObject(i + 1, args.get(i));
        }
    }

    /** The sketches of reports read in order of bucket, day, product and release, written a batch at a time. */
    private static final class ReachBuilder {
        private final PreparedStatement fleet;
        private final PreparedStatement scoped;
        private UUID bucket;
        private Timestamp day;
        private String product;
        private String release;
        private byte[] fleetHosts;
        private byte[] fleetVms;
        private byte[] hosts;
        private byte[] vms;
        private int batched;

        ReachBuilder(PreparedStatement fleet, PreparedStatement scoped) {
            this.fleet = fleet;
            this.scoped = scoped;
        }

        void add(UUID bucket, Timestamp day, String product, String release, String host, String vm)
                throws SQLException {
            boolean sameDay = bucket.equals(this.bucket) && day.equals(this.day);
            if (!sameDay || !product.equals(this.product) || !release.equals(this.release)) {
                flushRelease();
                this.product = product;
                this.release = release;
                hosts = new byte[Reach.REGISTERS];
                vms = new byte[Reach.REGISTERS];
            }
            if (!sameDay) {
                flushDay();
                this.bucket = bucket;
                this.day = day;
                fleetHosts = new byte[Reach.REGISTERS];
                fleetVms = new byte[Reach.REGISTERS];
            }
            Reach.put(hosts, host);
            Reach.put(vms, vm);
            Reach.put(fleetHosts, host);
            Reach.put(fleetVms, vm);
        }

        private void flushRelease() throws SQLException {
            if (hosts != null) {
                scoped.setString(1, product);
                scoped.setString(2, release);
                scoped.setObject(3, bucket);
                scoped.setTimestamp(4, day);
                scoped.setBytes(5, hosts);
                scoped.setBytes(6, vms);
                scoped.addBatch();
                batched++;
            }
        }

        private void flushDay() throws SQLException {
            if (fleetHosts != null) {
                fleet.setObject(1, bucket);
                fleet.setTimestamp(2, day);
                fleet.setBytes(3, fleetHosts);
                fleet.setBytes(4, fleetVms);
                fleet.addBatch();
                batched++;
            }
            if (batched >= 500) {
                fleet.executeBatch();
                scoped.executeBatch();
                batched = 0;
            }
        }

        void finish() throws SQLException {
            flushRelease();
            flushDay();
            fleet.executeBatch();
            scoped.executeBatch();
        }
    }

    static BucketRow bucket(Connection c, UUID id) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT b.id, b.title, b.symbolic_key, b.rules_version, b.report_count,"
                        + " (SELECT count(DISTINCT host_id) FROM report WHERE bucket_id = b.id),"
                        + " (SELECT count(DISTINCT vm_uuid) FROM report WHERE bucket_id = b.id), b.first_seen, b.last_seen"
                        + " FROM bucket b WHERE b.id = ?")) {
            s.setObject(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? bucket(rs) : null;
            }
        }
    }

    static List<ReportRow> reports(Connection c, UUID bucket, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT incident_id, title, evidence, instant_key, product, release, vm_uuid, vm_name, host_id,"
                        + " trigger, detected_at, complete, artifacts, provisional FROM report WHERE bucket_id = ?"
                        + " ORDER BY detected_at DESC, incident_id LIMIT ?")) {
            s.setObject(1, bucket);
            s.setInt(2, limit);
            List<ReportRow> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new ReportRow(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getString(6),
                            rs.getString(7),
                            rs.getString(8),
                            rs.getString(9),
                            rs.getString(10),
                            rs.getTimestamp(11).toInstant(),
                            rs.getBoolean(12),
                            rs.getString(13),
                            rs.getBoolean(14)));
                }
            }
            return rows;
        }
    }

    private static BucketRow bucket(ResultSet rs) throws SQLException {
        return new BucketRow(
                rs.getObject(1, UUID.class),
                rs.getString(2),
                rs.getString(3),
                rs.getInt(4),
                rs.getLong(5),
                rs.getLong(6),
                rs.getLong(7),
                rs.getTimestamp(8).toInstant(),
                rs.getTimestamp(9).toInstant());
    }
}
