package dev.vigil.triage.outbox;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The SQL of the {@code outbox} table: events staged by a transaction, waiting to be relayed to Kafka. Each statement
 * runs on the connection of the caller's transaction.
 */
@ApplicationScoped
class OutboxRepository {

    /** An event waiting to be relayed. */
    record Waiting(long id, byte[] payload) {}

    private final AgroalDataSource db;

    OutboxRepository(AgroalDataSource db) {
        this.db = db;
    }

    void insert(UUID bucket, String eventId, byte[] payload) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s =
                        c.prepareStatement("INSERT INTO outbox (bucket_id, event_id, payload) VALUES (?, ?, ?)")) {
            s.setObject(1, bucket);
            s.setString(2, eventId);
            s.setBytes(3, payload);
            s.executeUpdate();
        }
    }

    /** Serializes relays across the service's instances for the rest of the transaction, keeping events in order. */
    void lockRelay() throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext('triage-outbox'))")) {
            s.executeQuery().close();
        }
    }

    /** The oldest staged events, in the order they were staged. */
    List<Waiting> oldest(int limit) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT id, payload FROM outbox ORDER BY id LIMIT ?")) {
            s.setInt(1, limit);
            List<Waiting> staged = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    staged.add(new Waiting(rs.getLong(1), rs.getBytes(2)));
                }
            }
            return staged;
        }
    }

    /**
     * Deletes exactly the relayed rows: ids are taken when a row is staged, not when its transaction commits, so a
     * row with a lower id may still be invisible to the relay that read these.
     */
    void delete(List<Waiting> relayed) throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("DELETE FROM outbox WHERE id = ANY (?)")) {
            s.setArray(
                    1,
                    c.createArrayOf("bigint", relayed.stream().map(Waiting::id).toArray()));
            s.executeUpdate();
        }
    }

    long count() throws SQLException {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT count(*) FROM outbox");
                ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
