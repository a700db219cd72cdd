package dev.vigil.triage.regression;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A release's crash reports in a window and its recorded regression verdicts, in plain SQL. */
@ApplicationScoped
class ReleaseHealthRepository {

    private final AgroalDataSource db;

    ReleaseHealthRepository(AgroalDataSource db) {
        this.db = db;
    }

    /** Reports of a product release detected in [{@code from}, {@code until}); one index range of report_release_bucket. */
    long reports(String product, String release, Instant from, Instant until) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM report"
                    + " WHERE product = ? AND release = ? AND detected_at >= ? AND detected_at < ?")) {
                s.setString(1, product);
                s.setString(2, release);
                s.setTimestamp(3, Timestamp.from(from));
                s.setTimestamp(4, Timestamp.from(until));
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }
    }

    /** Up to {@code limit} regression verdicts of a product release, newest first, with their buckets' titles. */
    List<ReleaseHealth.Regression> regressions(String product, String release, int limit) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement(
                    "SELECT r.bucket_id, r.kind, b.title, r.previous_release, r.detected_at FROM regression r"
                            + " JOIN bucket b ON b.id = r.bucket_id WHERE r.product = ? AND r.release = ?"
                            + " ORDER BY r.detected_at DESC, r.bucket_id LIMIT ?")) {
                s.setString(1, product);
                s.setString(2, release);
                s.setInt(3, limit);
                List<ReleaseHealth.Regression> list = new ArrayList<>();
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        list.add(new ReleaseHealth.Regression(
                                rs.getObject(1, UUID.class),
                                rs.getString(2),
                                rs.getString(3),
                                rs.getString(4),
                                rs.getTimestamp(5).toInstant()));
                    }
                }
                return list;
            }
        }
    }
}
