package dev.vigil.triage.bucket;

import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.triage.bucket.CurationException.Reason;
import dev.vigil.triage.collection.CollectionPolicyService;
import dev.vigil.triage.outbox.Outbox;
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
import org.jboss.logging.Logger;

/**
 * What analysts change about buckets: admins merge one bucket into another (its reports, and every report filed
 * later under its signature, count in the target) and unmerge it again (its own reports return and both counts are
 * what they were); analysts add notes and links.
 */
@ApplicationScoped
public class CurationService {

    private static final Logger LOG = Logger.getLogger(CurationService.class);

    private final AgroalDataSource db;
    private final CollectionPolicyService collection;
    private final Outbox outbox;

    CurationService(AgroalDataSource db, CollectionPolicyService collection, Outbox outbox) {
        this.db = db;
        this.collection = collection;
        this.outbox = outbox;
    }

    /** A merge in force. */
    public record Merge(UUID source, UUID target, String mergedBy, Instant mergedAt, String reason, long moved) {}

    /** A note or a link on a bucket. */
    public record Note(long id, String kind, String text, String url, String author, Instant createdAt) {}

    /**
     * Merges {@code source} into {@code target}. Buckets merged into the source before follow it into the target;
     * a bucket already merged cannot be merged again, nor merged into one that is merged (name its target).
     */
    public Merge merge(UUID source, UUID target, String by, String reason) throws SQLException, CurationException {
        if (source.equals(target)) {
            throw new CurationException(Reason.SAME_BUCKET, "a bucket cannot be merged into itself");
        }
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                lock(c, source, target);
                UUID sourceTarget = BucketRepository.mergedInto(c, source);
                if (sourceTarget != null) {
                    throw new CurationException(
                            Reason.ALREADY_MERGED, "bucket " + source + " is already merged into " + sourceTarget);
                }
                UUID targetTarget = BucketRepository.mergedInto(c, target);
                if (targetTarget != null) {
                    throw new CurationException(
                            Reason.TARGET_MERGED,
                            "bucket " + target + " is merged into " + targetTarget + ": merge into that one");
                }
                Instant now = Instant.now();
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
                    s.setTimestamp(4, Timestamp.from(now));
                    s.setString(5, reason);
                    s.executeUpdate();
                }
                long moved = move(c, "UPDATE report SET bucket_id = ? WHERE bucket_id = ?", target, source);
                BucketRepository.recount(c, source);
                BucketRepository.recount(c, target);
                CrashTriaged request = collection.afterMerge(c, source, by);
                stage(c, request);
                c.commit();
                announced(request);
                LOG.infof("bucket %s merged into %s by %s (%d reports)", source, target, by, moved);
                return new Merge(source, target, by, now, reason, moved);
            } catch (SQLException | CurationException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** Undoes the merge of {@code source}: its own reports count in it again. */
    public Merge unmerge(UUID source, String by) throws SQLException, CurationException {
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                Merge merge = mergeOf(c, source);
                if (merge == null) {
                    if (!exists(c, source)) {
                        throw new CurationException(Reason.NO_SUCH_BUCKET, "no bucket " + source);
                    }
                    throw new CurationException(Reason.NOT_MERGED, "bucket " + source + " is not merged");
                }
                UUID target = merge.target();
                lock(c, source, target);
                Merge locked = mergeOf(c, source);
                if (locked == null || !locked.target().equals(target)) {
                    throw new CurationException(Reason.NOT_MERGED, "bucket " + source + " was unmerged meanwhile");
                }
                try (PreparedStatement s = c.prepareStatement("DELETE FROM bucket_merge WHERE source_bucket_id = ?")) {
                    s.setObject(1, source);
                    s.executeUpdate();
                }
                long moved = move(
                        c,
                        "UPDATE report SET bucket_id = origin_bucket_id WHERE origin_bucket_id = ? AND bucket_id = ?",
                        source,
                        target);
                BucketRepository.recount(c, source);
                BucketRepository.recount(c, target);
                CrashTriaged request = collection.afterUnmerge(c, source);
                stage(c, request);
                c.commit();
                announced(request);
                LOG.infof("bucket %s unmerged from %s by %s (%d reports)", source, target, by, moved);
                return new Merge(source, target, by, Instant.now(), null, moved);
            } catch (SQLException | CurationException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /** The merge's policy request goes out only if the merge commits. */
    private static void stage(Connection c, CrashTriaged request) throws SQLException {
        if (request != null) {
            Outbox.stage(c, request);
        }
    }

    private void announced(CrashTriaged request) {
        if (request != null) {
            outbox.relaySoon();
            collection.published(request);
        }
    }

    /** Adds a note ({@code url} null) or a link to a bucket. */
    public Note annotate(UUID bucket, String kind, String text, String url, String author)
            throws SQLException, CurationException {
        try (Connection c = db.getConnection()) {
            if (!exists(c, bucket)) {
                throw new CurationException(Reason.NO_SUCH_BUCKET, "no bucket " + bucket);
            }
            Instant now = Instant.now();
            try (PreparedStatement s = c.prepareStatement("INSERT INTO bucket_note (bucket_id, kind, text, url,"
                    + " author, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id")) {
                s.setObject(1, bucket);
                s.setString(2, kind);
                s.setString(3, text);
                s.setString(4, url);
                s.setString(5, author);
                s.setTimestamp(6, Timestamp.from(now));
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return new Note(rs.getLong(1), kind, text, url, author, now);
                }
            }
        }
    }

    /** A bucket's latest notes ({@code note}) or links ({@code link}), newest first. */
    public static List<Note> notes(Connection c, UUID bucket, String kind, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT id, kind, text, url, author, created_at FROM bucket_note"
                + " WHERE bucket_id = ? AND kind = ? ORDER BY created_at DESC, id DESC LIMIT ?")) {
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
    public static Merge mergeOf(Connection c, UUID source) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT target_bucket_id, merged_by, merged_at, reason"
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
    public static List<UUID> mergedFrom(Connection c, UUID target) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
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

    /**
     * Locks for update the buckets merged into {@code source}, then {@code source}, then {@code target}: origins
     * before targets, the order filing takes them in (its report's own bucket, then the one it counts in), so a
     * merge and a filing never wait on each other in a cycle, and no report lands in a bucket being merged away.
     */
    private static void lock(Connection c, UUID source, UUID target) throws SQLException, CurationException {
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

    private static boolean exists(Connection c, UUID bucket) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM bucket WHERE id = ?")) {
            s.setObject(1, bucket);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static long move(Connection c, String sql, UUID first, UUID second) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            s.setObject(1, first);
            s.setObject(2, second);
            return s.executeUpdate();
        }
    }
}
