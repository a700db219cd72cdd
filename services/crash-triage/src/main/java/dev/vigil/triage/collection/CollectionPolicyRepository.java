package dev.vigil.triage.collection;

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

/**
 * Buckets' full-dump counts, the collection policy last requested for each, and a bucket's scope, in plain SQL on the
 * connection of the caller's transaction (or one of their own when there is none).
 */
@ApplicationScoped
public class CollectionPolicyRepository {

    private final AgroalDataSource db;

    CollectionPolicyRepository(AgroalDataSource db) {
        this.db = db;
    }

    /** Whether a policy follows the full-dump count ({@code auto}) or an admin's choice ({@code override}). */
    public enum Mode {
        AUTO,
        OVERRIDE;

        String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The policy last requested for a bucket. */
    public record Policy(
            UUID bucket,
            DumpPolicy dump,
            Mode mode,
            String reason,
            long sequence,
            long fullDumps,
            String setBy,
            Instant setAt) {}

    /** What a request is about: the bucket's title and key, its reports, and where they came from. */
    record Scope(
            String title,
            String symbolicKey,
            long reports,
            List<String> triggers,
            List<String> hosts,
            List<String> vms,
            boolean truncated) {}

    /** Locks a bucket's row for the rest of the transaction; false when there is no such bucket. */
    boolean lockBucket(UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("SELECT id FROM bucket WHERE id = ? FOR UPDATE")) {
                s.setObject(1, bucket);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next();
                }
            }
        }
    }

    /** The bucket an admin merged this one into, or null. */
    UUID mergedInto(UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s =
                    c.prepareStatement("SELECT target_bucket_id FROM bucket_merge WHERE source_bucket_id = ?")) {
                s.setObject(1, bucket);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getObject(1, UUID.class) : null;
                }
            }
        }
    }

    /** Adds a filed report's full dump (if it has one) to its bucket's count; returns the count. */
    long countFullDump(UUID bucket, boolean fullDump) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement(
                    "UPDATE bucket SET full_dumps = full_dumps + ? WHERE id = ? RETURNING full_dumps")) {
                s.setInt(1, fullDump ? 1 : 0);
                s.setObject(2, bucket);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }
    }

    long fullDumps(UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("SELECT full_dumps FROM bucket WHERE id = ?")) {
                s.setObject(1, bucket);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getLong(1) : 0;
                }
            }
        }
    }

    /** The policy last requested for a bucket, or null when none was. */
    Policy policy(UUID bucket) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s =
                    c.prepareStatement("SELECT dump, mode, reason, sequence, full_dumps, set_by, set_at"
                            + " FROM collection_policy WHERE bucket_id = ?")) {
                s.setObject(1, bucket);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    return new Policy(
                            bucket,
                            DumpPolicy.ofWire(rs.getString(1)),
                            Mode.valueOf(rs.getString(2).toUpperCase(java.util.Locale.ROOT)),
                            rs.getString(3),
                            rs.getLong(4),
                            rs.getLong(5),
                            rs.getString(6),
                            rs.getTimestamp(7).toInstant());
                }
            }
        }
    }

    void save(Policy p) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s =
                    c.prepareStatement("INSERT INTO collection_policy (bucket_id, dump, mode, reason,"
                            + " sequence, full_dumps, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (bucket_id)"
                            + " DO UPDATE SET dump = excluded.dump, mode = excluded.mode, reason = excluded.reason,"
                            + " sequence = excluded.sequence, full_dumps = excluded.full_dumps, set_by = excluded.set_by,"
                            + " set_at = excluded.set_at")) {
                s.setObject(1, p.bucket());
                s.setString(2, p.dump().wire());
                s.setString(3, p.mode().wire());
                s.setString(4, p.reason());
                s.setLong(5, p.sequence());
                s.setLong(6, p.fullDumps());
                s.setString(7, p.setBy());
                s.setTimestamp(8, Timestamp.from(p.setAt()));
                s.executeUpdate();
            }
        }
    }

    /** The bucket's title, key and count, its reports' triggers, and up to {@code limit} hosts and VMs. */
    Scope scope(UUID bucket, int limit) throws SQLException {
        try (Connection c = db.getConnection()) {
            String title;
            String key;
            long reports;
            try (PreparedStatement s =
                    c.prepareStatement("SELECT title, symbolic_key, report_count FROM bucket WHERE id = ?")) {
                s.setObject(1, bucket);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    title = rs.getString(1);
                    key = rs.getString(2);
                    reports = rs.getLong(3);
                }
            }
            List<String> triggers = distinct(c, "trigger", bucket, 16);
            List<String> hosts = distinct(c, "host_id", bucket, limit + 1);
            List<String> vms = distinct(c, "vm_uuid", bucket, limit + 1);
            boolean truncated = hosts.size() > limit || vms.size() > limit;
            return new Scope(
                    title,
                    key,
                    reports,
                    triggers,
                    hosts.subList(0, Math.min(limit, hosts.size())),
                    vms.subList(0, Math.min(limit, vms.size())),
                    truncated);
        }
    }

    private static List<String> distinct(Connection c, String column, UUID bucket, int limit) throws SQLException {
        // column is one of this class's constants, never input.
        try (PreparedStatement s = c.prepareStatement("SELECT DISTINCT " + column + " FROM report WHERE bucket_id = ?"
                + " ORDER BY " + column + " LIMIT ?")) {
            s.setObject(1, bucket);
            s.setInt(2, limit);
            List<String> values = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    values.add(rs.getString(1));
                }
            }
            return values;
        }
    }
}
