package dev.vigil.triage.bucket;

import dev.vigil.triage.bucket.CurationException.Reason;
import dev.vigil.triage.bucket.CurationService.Merge;
import dev.vigil.triage.bucket.CurationService.Note;
import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.transaction.Transactional;
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
 * Merges of buckets and analysts' notes and links, in plain SQL on the connection of the caller's transaction (or one
 * of their own when there is none).
 */
@ApplicationScoped
public class CurationRepository {

    private final AgroalDataSource db;

    CurationRepository(AgroalDataSource db) {
        this.db = db;
    }

    /**
     * Locks for update the buckets merged into {@code source}, then {@code source}, then {@code target}: origins
     * before targets, the order filing takes them in (its report's own bucket, then the one it counts in), so a
     * merge and a filing never wait on each other in a cycle, and no report lands in a bucket being merged away.
     */
    @Transactional(Transactional.TxType.MANDATORY)
    void lock(UUID source, UUID target) throws SQLException, CurationException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s = c.prepareStatement("SELECT id FROM bucket WHERE id IN (SELECT source_bucket_id"
                    + " FROM bucket_merge WHERE target_bucket_id = ?) ORDER BY id FOR UPDATE")) {
                s.setObject(1, source);
                s.executeQuery().close();
            }
            for (UUID bucket : new UUID[] {source, target}) {
                try (PreparedStatement s = c.prepareStatement("SELECT id FROM bucket WHERE id = ? FOR UPDATE")) {
                    s.setObject(1, bucket);
                    try (ResultSet rs = s.executeQuery()) {
                        if (!rs.next()) {
                            throw new CurationException(Reason.NO_SUCH_BUCKET, "no bucket " + bucket);
                        }
                    }
                }
            }
        }
    }

    /**
     * Records that {@code source} is merged into {@code target}; the buckets merged into the source follow it into
     * the target.
     */
    void merge(UUID source, UUID target, String by, Instant at, String reason) throws SQLException {
        try (Connection c = db.getConnection()) {
            try (PreparedStatement s =
                    c.prepareStatement("UPDATE bucket_merge SET target_bucket_id = ? WHERE target_bucket_id = ?")) {
                s.setObject(1, target);
                s.setObject(2, source);
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO bucket_merge (source_bucket_id,"
                    + " target_bucket_id, merged_by, merged_at, reason) VALUES (?, ?, ?, ?, ?)")) {
                s.setObject(1, source);
                s.setObject(2, target);
                s.setString(3, by);
                s.setTimestamp(4, Timestamp.from(at));
                s.setString(5, reason);
                s.executeUpdate();
            }
        }
    }

    /** Moves every report counting in {@code source} to {@code target}; returns how many moved. */
    long moveAll(UUID source, UUID target) throws SQLException {
        return update("UPDATE report SET bucket_id = ? WHERE bucket_id = ?", target, source);
    }

    /** Forgets the merge of {@code source}. */
    void unmerge(UUID source) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("DELETE FROM bucket_merge WHERE source_bucket_id = ?")) {
            s.setObject(1, source);
            s.executeUpdate();
        }
    }

    /** Moves the reports of {@code source}'s own signatures back from {@code target}; returns how many moved. */
    long moveBack(UUID source, UUID target) throws SQLException {
        return update(
                "UPDATE report SET bucket_id = origin_bucket_id WHERE origin_bucket_id = ? AND bucket_id = ?",
                source,
                target);
    }

    private long update(String sql, UUID first, UUID second) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(sql)) {
            s.setObject(1, first);
            s.setObject(2, second);
            return s.executeUpdate();
        }
    }

    /** Whether the bucket exists (merged into another or not). */
    public boolean exists(UUID bucket) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT 1 FROM bucket WHERE id = ?")) {
            s.setObject(1, bucket);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Adds a note ({@code url} null) or a link to a bucket. */
    Note annotate(UUID bucket, String kind, String text, String url, String author, Instant at) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("INSERT INTO bucket_note (bucket_id, kind, text, url,"
                        + " author, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id")) {
            s.setObject(1, bucket);
            s.setString(2, kind);
            s.setString(3, text);
            s.setString(4, url);
            s.setString(5, author);
            s.setTimestamp(6, Timestamp.from(at));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return new Note(rs.getLong(1), kind, text, url, author, at);
            }
        }
    }

    /** A bucket's latest notes ({@code note}) or links ({@code link}), newest first. */
    public List<Note> notes(UUID bucket, String kind, int limit) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT id, kind, text, url, author, created_at"
                                + " FROM bucket_note WHERE bucket_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT ?")) {
            s.setObject(1, bucket);
            s.setString(2, kind);
            s.setInt(3, limit);
            List<Note> notes = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    notes.add(new Note(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getTimestamp(6).toInstant()));
                }
            }
            return notes;
        }
    }

    /** The merge of a bucket in force, or null. */
    public Merge mergeOf(UUID source) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT target_bucket_id, merged_by, merged_at, reason"
                        + " FROM bucket_merge WHERE source_bucket_id = ?")) {
            s.setObject(1, source);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? new Merge(
                                source,
                                rs.getObject(1, UUID.class),
                                rs.getString(2),
                                rs.getTimestamp(3).toInstant(),
                                rs.getString(4),
                                0)
                        : null;
            }
        }
    }

    /** The buckets merged into a bucket. */
    public List<UUID> mergedFrom(UUID target) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT source_bucket_id FROM bucket_merge WHERE target_bucket_id = ? ORDER BY merged_at")) {
            s.setObject(1, target);
            List<UUID> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getObject(1, UUID.class));
                }
            }
            return ids;
        }
    }
}
