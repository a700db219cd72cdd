package dev.vigil.triage.regression;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Release order, the buckets of a release still to judge, and regression verdicts, in plain SQL on the connection of
 * the caller's transaction (or one of their own when there is none).
 */
@ApplicationScoped
public class RegressionRepository {

    private final AgroalDataSource db;

    RegressionRepository(AgroalDataSource db) {
        this.db = db;
    }

    /** A bucket of a release with no verdict yet. */
    record Candidate(
            UUID bucket, String title, String symbolicKey, long reports, long previousReports, boolean newInRelease) {}

    /** A regression verdict as stored. */
    public record Verdict(
            UUID bucket,
            String product,
            String release,
            String kind,
            String previousRelease,
            long reports,
            Double vmHours,
            long previousReports,
            Double previousVmHours,
            Double pValue,
            Instant detectedAt) {}

    /** A product's release. */
    record Release(String product, String release) {}

    /** The release of the product whose first report came last before this release's first, or null. */
    String previousRelease(String product, String release) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT p.release FROM release_seen cur JOIN release_seen p"
                            + " ON p.product = cur.product AND (p.first_report_at, p.release) < (cur.first_report_at, cur.release)"
                            + " WHERE cur.product = ? AND cur.release = ? ORDER BY p.first_report_at DESC, p.release DESC LIMIT 1")) {
                s.setString(1, product);
                s.setString(2, release);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }
    }

    /** Releases with a report since {@code since}. */
    List<Release> recentReleases(Instant since) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT product, release FROM release_seen WHERE last_report_at >= ? ORDER BY product, release")) {
                s.setTimestamp(1, Timestamp.from(since));
                List<Release> releases = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        releases.add(new Release(rs.getString(1), rs.getString(2)));
                    }
                }
                return releases;
            }
        }
    }

    /**
     * The buckets with reports in a release and no verdict for it yet (one bucket, or all when {@code bucket} is
     * null), with their reports there and in the previous release, and whether they have none in any earlier one.
     */
    List<Candidate> candidates(String product, String release, String previous, UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            // Counts cover the same window as the exposure ingestion reports (EXPOSURE_DAYS), so rates compare like
            // with like however old a release is; "new in the release" looks at all of the bucket's history.
            try (PreparedStatement s = c.prepareStatement("SELECT br.bucket_id, b.title, b.symbolic_key,"
                    + " (SELECT count(*) FROM report r WHERE r.bucket_id = br.bucket_id AND r.product = br.product"
                    + " AND r.release = br.release AND r.detected_at >= ?),"
                    + " (SELECT count(*) FROM report r WHERE r.bucket_id = br.bucket_id AND r.product = br.product"
                    + " AND r.release = ? AND r.detected_at >= ?), NOT EXISTS (SELECT 1 FROM bucket_release e JOIN release_seen rs"
                    + " ON rs.product = e.product AND rs.release = e.release WHERE e.bucket_id = br.bucket_id"
                    + " AND e.product = br.product AND (rs.first_report_at, rs.release) < (cur.first_report_at, cur.release))"
                    + " FROM bucket_release br JOIN bucket b ON b.id = br.bucket_id"
                    + " JOIN release_seen cur ON cur.product = br.product AND cur.release = br.release"
                    + " WHERE br.product = ? AND br.release = ? AND b.report_count > 0"
                    + (bucket == null ? "" : " AND br.bucket_id = ?")
                    + " AND NOT EXISTS (SELECT 1 FROM regression r WHERE r.bucket_id = br.bucket_id"
                    + " AND r.product = br.product AND r.release = br.release)")) {
                Timestamp since = Timestamp.from(LocalDate.now(ZoneOffset.UTC)
                        .minusDays(RegressionService.EXPOSURE_DAYS)
                        .atStartOfDay(ZoneOffset.UTC)
                        .toInstant());
                s.setTimestamp(1, since);
                s.setString(2, previous);
                s.setTimestamp(3, since);
                s.setString(4, product);
                s.setString(5, release);
                if (bucket != null) {
                    s.setObject(6, bucket);
                }
                List<Candidate> list = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        list.add(new Candidate(
                                rs.getObject(1, UUID.class),
                                rs.getString(2),
                                rs.getString(3),
                                rs.getLong(4),
                                rs.getLong(5),
                                rs.getBoolean(6)));
                    }
                }
                return list;
            }
        }
    }

    /** Records a verdict unless one exists for the bucket and release; returns whether this one was recorded. */
    boolean record(Verdict v) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO regression (bucket_id, product, release, kind,"
                    + " previous_release, reports, vm_hours, previous_reports, previous_vm_hours, p_value, detected_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                s.setObject(1, v.bucket());
                s.setString(2, v.product());
                s.setString(3, v.release());
                s.setString(4, v.kind());
                s.setString(5, v.previousRelease());
                s.setLong(6, v.reports());
                s.setObject(7, v.vmHours());
                s.setLong(8, v.previousReports());
                s.setObject(9, v.previousVmHours());
                s.setObject(10, v.pValue());
                s.setTimestamp(11, Timestamp.from(v.detectedAt()));
                return s.executeUpdate() == 1;
            }
        }
    }

    /** The verdicts of these buckets in a release (of any product when {@code product} is null). */
    public List<Verdict> verdicts(List<UUID> buckets, String product, String release) throws SQLException {
        try (Connection c = db.getConnection()) {
            String sql = "SELECT bucket_id, product, release, kind, previous_release, reports, vm_hours,"
                    + " previous_reports, previous_vm_hours, p_value, detected_at FROM regression WHERE bucket_id = ANY (?)"
                    + (release == null ? "" : " AND release = ?")
                    + (product == null ? "" : " AND product = ?")
                    + " ORDER BY detected_at DESC";
            try (PreparedStatement s = c.prepareStatement(sql)) {
                int n = 1;
                s.setArray(n++, c.createArrayOf("uuid", buckets.toArray()));
                if (release != null) {
                    s.setString(n++, release);
                }
                if (product != null) {
                    s.setString(n, product);
                }
                List<Verdict> list = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        list.add(new Verdict(
                                rs.getObject(1, UUID.class),
                                rs.getString(2),
                                rs.getString(3),
                                rs.getString(4),
                                rs.getString(5),
                                rs.getLong(6),
                                rs.getObject(7, Double.class),
                                rs.getLong(8),
                                rs.getObject(9, Double.class),
                                rs.getObject(10, Double.class),
                                rs.getTimestamp(11).toInstant()));
                    }
                }
                return list;
            }
        }
    }
}
