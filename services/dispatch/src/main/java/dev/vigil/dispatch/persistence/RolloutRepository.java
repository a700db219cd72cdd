package dev.vigil.dispatch.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.vigil.dispatch.domain.Rollout;
import dev.vigil.dispatch.domain.RolloutState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Rollouts, the hosts each updated, and every decision with its numbers (the outbox of their events). */
public final class RolloutRepository {

    private static final String COLUMNS = "id, product_id, version, previous_version, channel, stages, stage, state,"
            + " min_vm_hours, min_stage_seconds, min_rate_ratio, significance, rollback_on_halt, created_by, created_at,"
            + " stage_started_at, updated_at";

    /** A decision as stored. */
    public record Decision(
            UUID id,
            UUID rollout,
            String kind,
            int stage,
            int percent,
            int hosts,
            String decidedBy,
            String reason,
            Map<String, Object> health,
            Instant decidedAt,
            Instant publishedAt) {}

    private RolloutRepository() {}

    /** Inserts a rollout; false when another is in progress on the channel. */
    public static boolean insert(Connection c, Rollout r) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO rollout (" + COLUMNS + ") VALUES"
                + " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            s.setObject(1, r.id());
            s.setString(2, r.product());
            s.setString(3, r.release());
            s.setString(4, r.previousRelease());
            s.setString(5, r.channel());
            s.setString(6, Json.write(r.stages()));
            s.setInt(7, r.stage());
            s.setString(8, r.state().name());
            s.setDouble(9, r.minVmHours());
            s.setLong(10, r.minStageDuration().toSeconds());
            s.setDouble(11, r.minRateRatio());
            s.setDouble(12, r.significance());
            s.setBoolean(13, r.rollbackOnHalt());
            s.setString(14, r.createdBy());
            s.setTimestamp(15, Timestamp.from(r.createdAt()));
            s.setTimestamp(16, Timestamp.from(r.stageStartedAt()));
            s.setTimestamp(17, Timestamp.from(r.updatedAt()));
            return s.executeUpdate() == 1;
        }
    }

    /** Moves a rollout to a stage and state. */
    public static void update(Connection c, UUID id, int stage, RolloutState state, Instant stageStartedAt, Instant at)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE rollout SET stage = ?, state = ?, stage_started_at = ?, updated_at = ? WHERE id = ?")) {
            s.setInt(1, stage);
            s.setString(2, state.name());
            s.setTimestamp(3, Timestamp.from(stageStartedAt));
            s.setTimestamp(4, Timestamp.from(at));
            s.setObject(5, id);
            s.executeUpdate();
        }
    }

    public static Rollout find(Connection c, UUID id, boolean lock) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT " + COLUMNS + " FROM rollout WHERE id = ?" + (lock ? " FOR UPDATE" : ""))) {
            s.setObject(1, id);
            return Rows.one(s, RolloutRepository::row);
        }
    }

    /** The rollout in progress on a channel, or null. */
    public static Rollout inProgress(Connection c, String product, String channel) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS
                + " FROM rollout WHERE product_id = ? AND channel = ? AND state IN ('RUNNING', 'PAUSED')")) {
            s.setString(1, product);
            s.setString(2, channel);
            return Rows.one(s, RolloutRepository::row);
        }
    }

    /** Ids of running rollouts. */
    public static List<UUID> running(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT id FROM rollout WHERE state = 'RUNNING'");
                ResultSet rs = s.executeQuery()) {
            List<UUID> ids = new ArrayList<>();
            while (rs.next()) {
                ids.add((UUID) rs.getObject(1));
            }
            return ids;
        }
    }

    /** Rollouts of a product (or all), newest first. */
    public static List<Rollout> search(Connection c, String product, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS
                + " FROM rollout WHERE (?::text IS NULL OR product_id = ?) ORDER BY created_at DESC LIMIT ?")) {
            s.setString(1, product);
            s.setString(2, product);
            s.setInt(3, limit);
            return Rows.list(s, RolloutRepository::row);
        }
    }

    /** The hosts a rollout included, with their update commands. */
    public static Map<String, UUID> hosts(Connection c, UUID rollout) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT host_id, command_id FROM rollout_host WHERE rollout_id = ? ORDER BY stage, host_id")) {
            s.setObject(1, rollout);
            Map<String, UUID> hosts = new java.util.LinkedHashMap<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    hosts.put(rs.getString(1), (UUID) rs.getObject(2));
                }
            }
            return hosts;
        }
    }

    public static void includeHost(Connection c, UUID rollout, String hostId, int stage, UUID command)
            throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("INSERT INTO rollout_host (rollout_id, host_id, stage, command_id)"
                        + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
            s.setObject(1, rollout);
            s.setString(2, hostId);
            s.setInt(3, stage);
            s.setObject(4, command);
            s.executeUpdate();
        }
    }

    public static void decide(Connection c, Decision d) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO rollout_decision (id, rollout_id, kind, stage,"
                + " percent, hosts, decided_by, reason, health, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setObject(1, d.id());
            s.setObject(2, d.rollout());
            s.setString(3, d.kind());
            s.setInt(4, d.stage());
            s.setInt(5, d.percent());
            s.setInt(6, d.hosts());
            s.setString(7, d.decidedBy());
            s.setString(8, d.reason());
            s.setString(9, d.health() == null ? null : Json.write(d.health()));
            s.setTimestamp(10, Timestamp.from(d.decidedAt()));
            s.executeUpdate();
        }
    }

    public static List<Decision> decisions(Connection c, UUID rollout) throws SQLException {
        return decisions(
                c,
                "SELECT id, rollout_id, kind, stage, percent, hosts, decided_by, reason, health, decided_at,"
                        + " published_at FROM rollout_decision WHERE rollout_id = ? ORDER BY decided_at, id",
                rollout);
    }

    /** Decisions not yet on the topic, oldest first. */
    public static List<Decision> unpublished(Connection c) throws SQLException {
        return decisions(
                c,
                "SELECT id, rollout_id, kind, stage, percent, hosts, decided_by, reason, health, decided_at,"
                        + " published_at FROM rollout_decision WHERE published_at IS NULL ORDER BY decided_at LIMIT 100",
                null);
    }

    public static void published(Connection c, UUID decision, Instant at) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE rollout_decision SET published_at = ? WHERE id = ?")) {
            s.setTimestamp(1, Timestamp.from(at));
            s.setObject(2, decision);
            s.executeUpdate();
        }
    }

    private static List<Decision> decisions(Connection c, String sql, UUID rollout) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            if (rollout != null) {
                s.setObject(1, rollout);
            }
            List<Decision> all = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    String health = rs.getString(9);
                    all.add(new Decision(
                            (UUID) rs.getObject(1),
                            (UUID) rs.getObject(2),
                            rs.getString(3),
                            rs.getInt(4),
                            rs.getInt(5),
                            rs.getInt(6),
                            rs.getString(7),
                            rs.getString(8),
                            health == null ? null : Json.read(health, new TypeReference<Map<String, Object>>() {}),
                            rs.getTimestamp(10).toInstant(),
                            ReleaseRepository.instant(rs.getTimestamp(11))));
                }
            }
            return all;
        }
    }

    private static Rollout row(ResultSet rs) throws SQLException {
        return new Rollout(
                (UUID) rs.getObject(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                Json.read(rs.getString(6), new TypeReference<List<Integer>>() {}),
                rs.getInt(7),
                RolloutState.valueOf(rs.getString(8)),
                rs.getDouble(9),
                Duration.ofSeconds(rs.getLong(10)),
                rs.getDouble(11),
                rs.getDouble(12),
                rs.getBoolean(13),
                rs.getString(14),
                rs.getTimestamp(15).toInstant(),
                rs.getTimestamp(16).toInstant(),
                rs.getTimestamp(17).toInstant());
    }
}
