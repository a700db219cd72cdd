package dev.vigil.triage.rules;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

/** Reports read for re-signing, their keys per rules version, and which versions every report has, in plain SQL. */
public final class RulesRepository {

    private RulesRepository() {}

    /** A bucket's symbolic key under one rules version. */
    public record BucketKey(int rulesVersion, String symbolicKey) {}

    /** How a rules version was applied: its content's SHA-256, null when applied before contents were recorded. */
    record Applied(String sha256) {}

    /** The version's application, or null when its reports have no keys under it yet. */
    static Applied applied(Connection c, int version) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT rules_sha256 FROM rules_applied WHERE rules_version = ?")) {
            s.setInt(1, version);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? new Applied(rs.getString(1)) : null;
            }
        }
    }

    /** Records the content of a version applied before contents were recorded. */
    static void adoptContent(Connection c, int version, String sha256) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE rules_applied SET rules_sha256 = ? WHERE rules_version = ? AND rules_sha256 IS NULL")) {
            s.setString(1, sha256);
            s.setInt(2, version);
            s.executeUpdate();
        }
    }

    /**
     * Up to {@code limit} stored reports after incident id {@code after} (null: from the first), in incident id
     * order, each with its symbolic key under {@code version} if it has one; streamed to {@code each}.
     *
     * @return the last incident id read, or null when there was none
     */
    static String reports(Connection c, int version, String after, int limit, Consumer<StoredReport> each)
            throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        // A cursor (fetch size) needs a transaction in PostgreSQL; without one the driver reads every row at once.
        c.setAutoCommit(false);
        try (PreparedStatement s = c.prepareStatement("SELECT r.incident_id, r.bucket_id, r.evidence, r.product,"
                + " r.release, r.trigger, r.facts, k.symbolic_key FROM report r LEFT JOIN report_key k"
                + " ON k.incident_id = r.incident_id AND k.rules_version = ?"
                + " WHERE r.incident_id > ? ORDER BY r.incident_id LIMIT ?")) {
            s.setFetchSize(1000);
            s.setInt(1, version);
            s.setString(2, after == null ? "" : after);
            s.setInt(3, limit);
            String last = null;
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    last = rs.getString(1);
                    each.accept(new StoredReport(
                            last,
                            rs.getObject(2, UUID.class),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getString(6),
                            rs.getString(7),
                            rs.getString(8)));
                }
            }
            return last;
        } finally {
            c.commit();
            c.setAutoCommit(autoCommit);
        }
    }

    /** Stores a report's keys under a version unless it has them. */
    static void addKey(
            PreparedStatement insert, String incident, int version, String instantKey, String symbolicKey, String title)
            throws SQLException {
        insert.setString(1, incident);
        insert.setInt(2, version);
        insert.setString(3, instantKey);
        insert.setString(4, symbolicKey);
        insert.setString(5, title);
        insert.addBatch();
    }

    static final String INSERT_KEY = "INSERT INTO report_key (incident_id, rules_version, instant_key, symbolic_key,"
            + " title) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

    /**
     * Maps each symbolic key of a version that stored reports sign to, and that no bucket has yet, to the bucket
     * of its reports' own signature (by most reports, then bucket id); returns how many keys were mapped.
     */
    static int mapKeys(Connection c, int version) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO bucket_key (symbolic_key, rules_version,"
                        + " bucket_id) SELECT DISTINCT ON (k.symbolic_key) k.symbolic_key, k.rules_version, r.origin_bucket_id"
                        + " FROM report_key k JOIN report r ON r.incident_id = k.incident_id WHERE k.rules_version = ?"
                        + " GROUP BY k.symbolic_key, k.rules_version, r.origin_bucket_id"
                        + " ORDER BY k.symbolic_key, count(*) DESC, r.origin_bucket_id ON CONFLICT (symbolic_key) DO NOTHING")) {
            s.setInt(1, version);
            return s.executeUpdate();
        }
    }

    static void markApplied(Connection c, int version, String sha256, long reports, long unsignable)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO rules_applied (rules_version, applied_at, reports,"
                + " unsignable, rules_sha256) VALUES (?, now(), ?, ?, ?) ON CONFLICT DO NOTHING")) {
            s.setInt(1, version);
            s.setLong(2, reports);
            s.setLong(3, unsignable);
            s.setString(4, sha256);
            s.executeUpdate();
        }
    }

    /** A bucket's symbolic keys, oldest rules version first. */
    public static List<BucketKey> keys(Connection c, UUID bucket, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT rules_version, symbolic_key FROM bucket_key"
                + " WHERE bucket_id = ? ORDER BY rules_version, symbolic_key LIMIT ?")) {
            s.setObject(1, bucket);
            s.setInt(2, limit);
            List<BucketKey> keys = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    keys.add(new BucketKey(rs.getInt(1), rs.getString(2)));
                }
            }
            return keys;
        }
    }

    /** Titles of buckets by id. */
    static java.util.Map<UUID, String> titles(Connection c, java.util.Collection<UUID> buckets) throws SQLException {
        java.util.Map<UUID, String> titles = new java.util.HashMap<>();
        if (buckets.isEmpty()) {
            return titles;
        }
        try (PreparedStatement s = c.prepareStatement("SELECT id, title FROM bucket WHERE id = ANY (?)")) {
            s.setArray(1, c.createArrayOf("uuid", buckets.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    titles.put(rs.getObject(1, UUID.class), rs.getString(2));
                }
            }
        }
        return titles;
    }
}
