package dev.vigil.dispatch.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.vigil.dispatch.domain.Command;
import dev.vigil.dispatch.domain.CommandState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Commands, the outbox their agents fetch them from, and their states. */
public final class CommandRepository {

    private static final String COLUMNS = "id, host_id, vm_uuid, action, arguments, sequence, state, origin,"
            + " rollout_id, issued_by, issued_at, expires_at, delivered_at, acknowledged_at, completed_at, refusal,"
            + " message";

    /** The PostgreSQL notification channel on which new commands are announced, with their host as payload. */
    public static final String CHANNEL = "vigil_dispatch_commands";

    /** A command its agent has still to fetch: its id, sequence and signed bytes. */
    public record Pending(UUID id, String hostId, long sequence, byte[] signed, Instant expiresAt) {}

    private CommandRepository() {}

    /** The host's next command sequence; the row stays locked until the transaction ends. */
    public static long nextSequence(Connection c, String hostId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO host_sequence (host_id, last_sequence)"
                + " VALUES (?, 1) ON CONFLICT (host_id) DO UPDATE SET last_sequence = host_sequence.last_sequence + 1"
                + " RETURNING last_sequence")) {
            s.setString(1, hostId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    public static void insert(Connection c, Command command, byte[] signed) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO command (id, host_id, vm_uuid, action, arguments,"
                + " sequence, state, origin, rollout_id, issued_by, issued_at, expires_at, signed)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setObject(1, command.id());
            s.setString(2, command.hostId());
            s.setString(3, command.vmUuid());
            s.setString(4, command.action());
            s.setString(5, Json.write(command.arguments()));
            s.setLong(6, command.sequence());
            s.setString(7, command.state().name());
            s.setString(8, command.origin());
            s.setObject(9, command.rolloutId());
            s.setString(10, command.issuedBy());
            s.setTimestamp(11, Timestamp.from(command.issuedAt()));
            s.setTimestamp(12, Timestamp.from(command.expiresAt()));
            s.setBytes(13, signed);
            s.executeUpdate();
        }
    }

    /**
     * A host's open commands above {@code after} in sequence order (issued or delivered, not yet expired), at most
     * {@code limit}: what its agent fetches next.
     */
    public static List<Pending> open(Connection c, String hostId, long after, Instant now, int limit)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT id, host_id, sequence, signed, expires_at FROM command"
                + " WHERE host_id = ? AND sequence > ? AND state IN ('ISSUED', 'DELIVERED') AND expires_at > ?"
                + " ORDER BY sequence LIMIT ?")) {
            s.setString(1, hostId);
            s.setLong(2, after);
            s.setTimestamp(3, Timestamp.from(now));
            s.setInt(4, limit);
            return Rows.list(
                    s,
                    rs -> new Pending(
                            (UUID) rs.getObject(1),
                            rs.getString(2),
                            rs.getLong(3),
                            rs.getBytes(4),
                            rs.getTimestamp(5).toInstant()));
        }
    }

    /** Makes {@code c}'s session a listener on {@link #CHANNEL}, for as long as it lasts. */
    public static void listen(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("LISTEN " + CHANNEL);
        }
    }

    /** A round trip on a quiet listening session: a dead socket fails here instead of waiting forever. */
    public static void ping(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        }
    }

    /**
     * Tells every dispatch replica listening on {@link #CHANNEL} that {@code hostId} has a new command, when the
     * caller's transaction commits (PostgreSQL delivers notifications at commit, and drops them on rollback).
     */
    public static void announce(Connection c, String hostId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_notify('" + CHANNEL + "', ?)")) {
            s.setString(1, hostId);
            s.execute();
        }
    }

    /**
     * Marks a command delivered at {@code at}, when its agent fetched it. The agent's acknowledgement may have been
     * recorded first (its result raced this update): then the state stays, and the delivery is dated no later than
     * the acknowledgement.
     */
    public static void delivered(Connection c, UUID id, Instant at) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE command SET"
                + " state = CASE WHEN state = 'ISSUED' THEN 'DELIVERED' ELSE state END,"
                + " delivered_at = COALESCE(delivered_at, LEAST(?, acknowledged_at)) WHERE id = ?")) {
            s.setTimestamp(1, Timestamp.from(at));
            s.setObject(2, id);
            s.executeUpdate();
        }
    }

    /** A command; null when absent. */
    public static Command find(Connection c, UUID id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM command WHERE id = ?")) {
            s.setObject(1, id);
            return Rows.one(s, CommandRepository::row);
        }
    }

    /**
     * The commands among {@code ids}, locked for update in id order (as {@link #expire} locks them, so neither waits
     * for the other in a cycle); ids dispatch never issued are absent.
     */
    public static Map<UUID, Command> lock(Connection c, List<UUID> ids) throws SQLException {
        Map<UUID, Command> commands = new HashMap<>();
        if (ids.isEmpty()) {
            return commands;
        }
        try (PreparedStatement s = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM command WHERE id = ANY(?::uuid[]) ORDER BY id FOR UPDATE")) {
            s.setArray(
                    1, c.createArrayOf("text", ids.stream().map(UUID::toString).toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Command command = row(rs);
                    commands.put(command.id(), command);
                }
            }
        }
        return commands;
    }

    /** Writes what agents' results made of commands: state, acknowledgement, completion, refusal, message. */
    public static void results(Connection c, Collection<Command> commands) throws SQLException {
        if (commands.isEmpty()) {
            return;
        }
        try (PreparedStatement s = c.prepareStatement("UPDATE command SET state = ?, acknowledged_at = ?,"
                + " completed_at = ?, refusal = ?, message = ? WHERE id = ?")) {
            for (Command command : commands) {
                s.setString(1, command.state().name());
                s.setTimestamp(2, timestamp(command.acknowledgedAt()));
                s.setTimestamp(3, timestamp(command.completedAt()));
                s.setString(4, command.refusal());
                s.setString(5, command.message());
                s.setObject(6, command.id());
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    /**
     * Marks commands no agent acknowledged by their expiry, locking them in id order as {@link #lock} does; returns
     * how many.
     */
    public static int expire(Connection c, Instant now) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE command SET state = 'EXPIRED', completed_at = ?"
                + " WHERE id IN (SELECT id FROM command WHERE state IN ('ISSUED', 'DELIVERED') AND expires_at < ?"
                + " ORDER BY id FOR UPDATE)")) {
            s.setTimestamp(1, Timestamp.from(now));
            s.setTimestamp(2, Timestamp.from(now));
            return s.executeUpdate();
        }
    }

    /** Commands by host, VM, state, rollout (each may be null), newest first. */
    public static List<Command> search(
            Connection c, String hostId, String vmUuid, String state, UUID rolloutId, int limit, int offset)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM command"
                + " WHERE (?::text IS NULL OR host_id = ?) AND (?::text IS NULL OR vm_uuid = ?)"
                + " AND (?::text IS NULL OR state = ?) AND (?::uuid IS NULL OR rollout_id = ?)"
                + " ORDER BY issued_at DESC, sequence DESC LIMIT ? OFFSET ?")) {
            s.setString(1, hostId);
            s.setString(2, hostId);
            s.setString(3, vmUuid);
            s.setString(4, vmUuid);
            s.setString(5, state);
            s.setString(6, state);
            s.setObject(7, rolloutId);
            s.setObject(8, rolloutId);
            s.setInt(9, limit);
            s.setInt(10, offset);
            return Rows.list(s, CommandRepository::row);
        }
    }

    private static Timestamp timestamp(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }

    private static Command row(ResultSet rs) throws SQLException {
        return new Command(
                (UUID) rs.getObject(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                Json.read(rs.getString(5), new TypeReference<Map<String, String>>() {}),
                rs.getLong(6),
                CommandState.valueOf(rs.getString(7)),
                rs.getString(8),
                (UUID) rs.getObject(9),
                rs.getString(10),
                rs.getTimestamp(11).toInstant(),
                rs.getTimestamp(12).toInstant(),
                ReleaseRepository.instant(rs.getTimestamp(13)),
                ReleaseRepository.instant(rs.getTimestamp(14)),
                ReleaseRepository.instant(rs.getTimestamp(15)),
                rs.getString(16),
                rs.getString(17));
    }
}
