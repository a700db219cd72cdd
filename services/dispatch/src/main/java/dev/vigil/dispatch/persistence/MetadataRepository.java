package dev.vigil.dispatch.persistence;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/** Every signed metadata document dispatch has served, by role, name and version. */
public final class MetadataRepository {

    /** Serializes every change of the repository's metadata across dispatch replicas. */
    private static final long PUBLISH_LOCK = 0x76_69_67_69_6cL;

    /** A stored document. */
    public record Stored(String role, String name, long version, byte[] body, String sha256, Instant expiresAt) {}

    private MetadataRepository() {}

    /** Takes the publish lock until the transaction ends. */
    public static void lock(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            s.setLong(1, PUBLISH_LOCK);
            s.execute();
        }
    }

    public static void insert(Connection c, Stored document) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("INSERT INTO metadata (role, name, version, body, sha256, expires_at, created_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, now())")) {
            s.setString(1, document.role());
            s.setString(2, document.name());
            s.setLong(3, document.version());
            s.setBytes(4, document.body());
            s.setString(5, document.sha256());
            s.setTimestamp(6, Timestamp.from(document.expiresAt()));
            s.executeUpdate();
        }
    }

    /** The newest version of a document, or null. */
    public static Stored latest(Connection c, String role, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT role, name, version, body, sha256, expires_at FROM metadata WHERE role = ? AND name = ?"
                        + " ORDER BY version DESC LIMIT 1")) {
            s.setString(1, role);
            s.setString(2, name);
            return one(s);
        }
    }

    /** A given version of a document, or null. */
    public static Stored version(Connection c, String role, String name, long version) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT role, name, version, body, sha256, expires_at FROM metadata"
                        + " WHERE role = ? AND name = ? AND version = ?")) {
            s.setString(1, role);
            s.setString(2, name);
            s.setLong(3, version);
            return one(s);
        }
    }

    /** The newest version of every document of a role (every product's targets). */
    public static List<Stored> latestOfRole(Connection c, String role) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT DISTINCT ON (name) role, name, version, body, sha256, expires_at FROM metadata"
                        + " WHERE role = ? ORDER BY name, version DESC")) {
            s.setString(1, role);
            return Rows.list(s, MetadataRepository::row);
        }
    }

    private static Stored one(PreparedStatement s) throws SQLException {
        try (ResultSet rs = s.executeQuery()) {
            return rs.next() ? row(rs) : null;
        }
    }

    private static Stored row(ResultSet rs) throws SQLException {
        return new Stored(
                rs.getString(1),
                rs.getString(2),
                rs.getLong(3),
                rs.getBytes(4),
                rs.getString(5),
                rs.getTimestamp(6).toInstant());
    }
}
