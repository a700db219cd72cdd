package dev.vigil.triage.rules;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Reports read for re-signing, their keys per rules version, and which versions every report has, in plain SQL on
 * the connection of the caller's transaction (or one of their own when there is none).
 */
@ApplicationScoped
public class RulesRepository {

    /** The advisory lock one triage instance re-keys under while the others wait. */
    static final long REKEY_LOCK = 0x76696769_6c72756cL;

    private final AgroalDataSource db;

    RulesRepository(AgroalDataSource db) {
        this.db = db;
    }

    /** A bucket's symbolic key under one rules version. */
    public record BucketKey(int rulesVersion, String symbolicKey) {}

    /** How a rules version was applied: its content's SHA-256, null when applied before contents were recorded. */
    record Applied(String sha256) {}

    /** A report's keys and title under one rules version. */
    record ReportKey(String incidentId, String instantKey, String symbolicKey, String title) {}

    /** Work done under the re-keying lock. */
    @FunctionalInterface
    interface Locked {
        void run() throws SQLException;
    }

    /**
     * Runs {@code work} holding the re-keying advisory lock, released however it ends. The lock is a session's, on a
     * connection of its own outside any transaction, so it is held across the transactions {@code work} commits.
     */
    @Transactional(Transactional.TxType.NOT_SUPPORTED)
    void underRekeyLock(Locked work) throws SQLException {
        try (Connection c = db.getConnection()) {
            advisory(c, "SELECT pg_advisory_lock(?)");
            try {
                work.run();
            } finally {
                advisory(c, "SELECT pg_advisory_unlock(?)");
            }
        }
    }

    private static void advisory(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setLong(1, REKEY_LOCK);
            s.executeQuery().close();
        }
    }

    /** The version's application, or null when its reports have no keys under it yet. */
    Applied applied(int version) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s =
                        c.prepareStatement("SELECT rules_sha256 FROM rules_applied WHERE rules_version = ?")) {
            s.setInt(1, version);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? new Applied(rs.getString(1)) : null;
            }
        }
    }

    /** Records the content of a version applied before contents were recorded. */
    void adoptContent(int version, String sha256) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "UPDATE rules_applied SET rules_sha256 = ? WHERE rules_version = ? AND rules_sha256 IS NULL")) {
            s.setString(1, sha256);
            s.setInt(2, version);
            s.executeUpdate();
        }
    }

    /**
     * Up to {@code limit} stored reports after incident id {@code after} (null: from the first), in incident id
     * order, each with its symbolic key under {@code version} if it has one; streamed to {@code each}. In the
     * caller's transaction: a cursor (fetch size) needs one in PostgreSQL; without one the driver reads every row at
     * once.
     *
     * @return the last incident id read, or null when there was none
     */
    @Transactional(Transactional.TxType.MANDATORY)
    String reports(int version, String after, int limit, Consumer<StoredReport> each) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT r.incident_id, r.bucket_id, r.evidence, r.product,"
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
        }
    }

    /** Stores reports' keys under a version unless they have them, in one batch. */
    void addKeys(int version, List<ReportKey> keys) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement insert = c.prepareStatement("INSERT INTO report_key (incident_id, rules_version,"
                        + " instant_key, symbolic_key, title) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (ReportKey k : keys) {
                insert.setString(1, k.incidentId());
                insert.setInt(2, version);
                insert.setString(3, k.instantKey());
                insert.setString(4, k.symbolicKey());
                insert.setString(5, k.title());
                insert.addBatch();
            }
            insert.executeBatch();
        }
    }

    /**
     * Maps each symbolic key of a version that stored reports sign to, and that no bucket has yet, to the bucket
     * of its reports' own signature (by most reports, then bucket id); returns how many keys were mapped.
     */
    int mapKeys(int version) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "INSERT INTO bucket_key (symbolic_key, rules_version,"
                                + " bucket_id) SELECT DISTINCT ON (k.symbolic_key) k.symbolic_key, k.rules_version, r.origin_bucket_id"
                                + " FROM report_key k JOIN report r ON r.incident_id = k.incident_id WHERE k.rules_version = ?"
                                + " GROUP BY k.symbolic_key, k.rules_version, r.origin_bucket_id"
                                + " ORDER BY k.symbolic_key, count(*) DESC, r.origin_bucket_id ON CONFLICT (symbolic_key) DO NOTHING")) {
            s.setInt(1, version);
            return s.executeUpdate();
        }
    }

    void markApplied(int version, String sha256, long reports, long unsignable) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("INSERT INTO rules_applied (rules_version, applied_at,"
                        + " reports, unsignable, rules_sha256) VALUES (?, now(), ?, ?, ?) ON CONFLICT DO NOTHING")) {
            s.setInt(1, version);
            s.setLong(2, reports);
            s.setLong(3, unsignable);
            s.setString(4, sha256);
            s.executeUpdate();
        }
    }

    /** A bucket's symbolic keys, oldest rules version first. */
    public List<BucketKey> keys(UUID bucket, int limit) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT rules_version, symbolic_key FROM bucket_key"
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
    Map<UUID, String> titles(Collection<UUID> buckets) throws SQLException {
        Map<UUID, String> titles = new HashMap<>();
        if (buckets.isEmpty()) {
            return titles;
        }
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT id, title FROM bucket WHERE id = ANY (?)")) {
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
