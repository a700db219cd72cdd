package dev.vigil.ingestion.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.hibernate.Session;

/** Dead-letter replay jobs and the dead-letter records they sent back. Callers hold the transaction. */
@ApplicationScoped
public class ReplayRepository {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final EntityManager entityManager;

    ReplayRepository(EntityManager entityManager) {
        this.entityManager = entityManager;
    }

    /** A replay job as stored. */
    public record Replay(
            UUID id,
            String requestedBy,
            String reason,
            String sourceTopic,
            int maxRecords,
            String state,
            long scanned,
            long alreadyReplayed,
            long replayed,
            long failed,
            Map<String, Long> replayedByReason,
            String error,
            Instant startedAt,
            Instant heartbeatAt,
            Instant finishedAt) {}

    /** Why a replay whose runner stopped reporting is interrupted. */
    public static final String RUNNER_STOPPED =
            "its runner stopped (the service restarted or failed); run another replay";

    /**
     * How a replay reads at {@code now}: one still marked running whose runner stopped reporting {@code silence} ago is
     * interrupted, as of its last report, whether or not {@link #interruptStale} has written so yet.
     */
    public static Replay asOf(Replay replay, Instant now, Duration silence) {
        if (replay == null
                || !"RUNNING".equals(replay.state())
                || !replay.heartbeatAt().isBefore(now.minus(silence))) {
            return replay;
        }
        return new Replay(
                replay.id(),
                replay.requestedBy(),
                replay.reason(),
                replay.sourceTopic(),
                replay.maxRecords(),
                "INTERRUPTED",
                replay.scanned(),
                replay.alreadyReplayed(),
                replay.replayed(),
                replay.failed(),
                replay.replayedByReason(),
                RUNNER_STOPPED,
                replay.startedAt(),
                replay.heartbeatAt(),
                replay.heartbeatAt());
    }

    /** Marks replays whose runner stopped reporting {@code silence} ago as interrupted; returns how many. */
    public int interruptStale(Instant now, Duration silence) {
        return entityManager
                .createNativeQuery("""
                        UPDATE dead_letter_replay SET state = 'INTERRUPTED', finished_at = :now, error = :error
                        WHERE state = 'RUNNING' AND heartbeat_at < :before""")
                .setParameter("error", RUNNER_STOPPED)
                .setParameter("now", Timestamp.from(now))
                .setParameter("before", Timestamp.from(now.minus(silence)))
                .executeUpdate();
    }

    /** The running replay, if any. */
    public Replay running() {
        List<Replay> running = select("WHERE state = 'RUNNING'", Map.of(), 1);
        return running.isEmpty() ? null : running.get(0);
    }

    /** Inserts a running replay; fails on the unique index when another one runs. */
    public void insert(UUID id, String requestedBy, String reason, String sourceTopic, int maxRecords, Instant now) {
        entityManager
                .createNativeQuery("""
                        INSERT INTO dead_letter_replay (id, requested_by, reason, source_topic, max_records, state,
                                                        started_at, heartbeat_at)
                        VALUES (:id, :by, :reason, :source, :max, 'RUNNING', :now, :now)""")
                .setParameter("id", id)
                .setParameter("by", requestedBy)
                .setParameter("reason", reason)
                .setParameter("source", sourceTopic)
                .setParameter("max", maxRecords)
                .setParameter("now", Timestamp.from(now))
                .executeUpdate();
    }

    /** Records progress (and, with a final state, the end). */
    public void progress(
            UUID id,
            String state,
            long scanned,
            long alreadyReplayed,
            long replayed,
            long failed,
            Map<String, Long> byReason,
            String error,
            Instant now) {
        String json;
        try {
            json = JSON.writeValueAsString(byReason);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        entityManager
                .createNativeQuery("""
                        UPDATE dead_letter_replay SET state = :state, scanned = :scanned,
                               already_replayed = :already, replayed = :replayed, failed = :failed,
                               replayed_by_reason = CAST(:byReason AS jsonb), error = :error, heartbeat_at = :now,
                               finished_at = CASE WHEN :state = 'RUNNING' THEN NULL ELSE CAST(:now AS timestamptz) END
                        WHERE id = :id""")
                .setParameter("state", state)
                .setParameter("scanned", scanned)
                .setParameter("already", alreadyReplayed)
                .setParameter("replayed", replayed)
                .setParameter("failed", failed)
                .setParameter("byReason", json)
                .setParameter("error", error)
                .setParameter("now", Timestamp.from(now))
                .setParameter("id", id)
                .executeUpdate();
    }

    /** Which of {@code offsets} of a dead-letter partition an earlier replay sent back. */
    public Set<Long> replayedAmong(int partition, List<Long> offsets) {
        if (offsets.isEmpty()) {
            return Set.of();
        }
        return entityManager.unwrap(Session.class).doReturningWork(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                    "SELECT dl_offset FROM dead_letter_replayed WHERE dl_partition = ? AND dl_offset = ANY (?)")) {
                Array array = connection.createArrayOf("bigint", offsets.toArray());
                select.setInt(1, partition);
                select.setArray(2, array);
                Set<Long> found = new HashSet<>();
                try (ResultSet rows = select.executeQuery()) {
                    while (rows.next()) {
                        found.add(rows.getLong(1));
                    }
                }
                return found;
            }
        });
    }

    /** Remembers that {@code replay} sent these dead-letter records back (their sends were acknowledged). */
    public void markReplayed(UUID replay, List<Integer> partitions, List<Long> offsets) {
        if (offsets.isEmpty()) {
            return;
        }
        entityManager.unwrap(Session.class).doWork(connection -> {
            try (PreparedStatement insert = connection.prepareStatement("""
                    INSERT INTO dead_letter_replayed (dl_partition, dl_offset, replay_id)
                    SELECT p, o, ? FROM unnest(?::integer[], ?::bigint[]) AS t (p, o)
                    ON CONFLICT DO NOTHING""")) {
                insert.setObject(1, replay);
                insert.setArray(2, connection.createArrayOf("integer", partitions.toArray()));
                insert.setArray(3, connection.createArrayOf("bigint", offsets.toArray()));
                insert.executeUpdate();
            }
        });
    }

    /** One replay by id, or null. */
    public Replay find(UUID id) {
        List<Replay> found = select("WHERE id = :id", Map.of("id", id), 1);
        return found.isEmpty() ? null : found.get(0);
    }

    /** The latest replays, newest first. */
    public List<Replay> latest(int limit) {
        return select("", Map.of(), limit);
    }

    @SuppressWarnings("unchecked")
    private List<Replay> select(String where, Map<String, Object> parameters, int limit) {
        var query = entityManager.createNativeQuery("""
                SELECT id, requested_by, reason, source_topic, max_records, state, scanned, already_replayed,
                       replayed, failed, CAST(replayed_by_reason AS text), error, started_at, heartbeat_at, finished_at
                FROM dead_letter_replay
                """ + where + " ORDER BY started_at DESC LIMIT " + limit);
        parameters.forEach(query::setParameter);
        List<Replay> replays = new ArrayList<>();
        for (Object[] row : (List<Object[]>) query.getResultList()) {
            replays.add(new Replay(
                    (UUID) row[0],
                    (String) row[1],
                    (String) row[2],
                    (String) row[3],
                    ((Number) row[4]).intValue(),
                    (String) row[5],
                    ((Number) row[6]).longValue(),
                    ((Number) row[7]).longValue(),
                    ((Number) row[8]).longValue(),
                    ((Number) row[9]).longValue(),
                    byReason((String) row[10]),
                    (String) row[11],
                    instant(row[12]),
                    instant(row[13]),
                    instant(row[14])));
        }
        return replays;
    }

    private static Map<String, Long> byReason(String json) {
        try {
            return new TreeMap<>(JSON.readValue(json, new TypeReference<Map<String, Long>>() {}));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("replayed_by_reason is not a JSON object of counts: " + e.getMessage(), e);
        }
    }

    private static Instant instant(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Instant instant) {
            return instant;
        }
        if (value instanceof Timestamp timestamp) {
            return timestamp.toInstant();
        }
        if (value instanceof java.time.OffsetDateTime offset) {
            return offset.toInstant();
        }
        throw new IllegalStateException("not a time: " + value.getClass());
    }
}
