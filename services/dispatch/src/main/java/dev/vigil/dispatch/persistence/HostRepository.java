package dev.vigil.dispatch.persistence;

import dev.vigil.dispatch.domain.Host;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/** Enrolled hosts and their API tokens (as hashes). */
public final class HostRepository {

    private static final String COLUMNS =
            "host_id, enrolment_id, product_id, channel, agent_version, enrolled_at, last_seen_at";

    private HostRepository() {}

    /**
     * A revoked host: who revoked it, when, why, and as which tenant it reported; when its revocation reached the
     * topic, and when the last Kafka certificate the enrolment CA gave it ends (its broker access ends then; null when
     * it got none from dispatch).
     */
    public record Revocation(
            String hostId,
            String tenant,
            Instant revokedAt,
            String revokedBy,
            String reason,
            Instant publishedAt,
            Instant kafkaCertificateValidUntil) {}

    /** The host a token was given to, or null (also when the host was revoked); notes that the host was seen. */
    public static String hostOfToken(Connection c, String tokenSha256) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE host SET last_seen_at = now() WHERE token_sha256 = ?"
                + " AND revoked_at IS NULL RETURNING host_id")) {
            s.setString(1, tokenSha256);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Enrols a host, or re-enrols it with a new token and programme. */
    public static void enrol(Connection c, Host host, String tokenSha256) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO host (" + COLUMNS + ", token_sha256)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_id) DO UPDATE SET"
                + " enrolment_id = EXCLUDED.enrolment_id, product_id = EXCLUDED.product_id,"
                + " channel = EXCLUDED.channel, agent_version = EXCLUDED.agent_version,"
                + " token_sha256 = EXCLUDED.token_sha256, enrolled_at = EXCLUDED.enrolled_at,"
                + " last_seen_at = EXCLUDED.last_seen_at")) {
            s.setString(1, host.hostId());
            s.setObject(2, host.enrolmentId());
            s.setString(3, host.product());
            s.setString(4, host.channel());
            s.setString(5, host.agentVersion());
            s.setTimestamp(6, Timestamp.from(host.enrolledAt()));
            s.setTimestamp(7, Timestamp.from(host.lastSeenAt()));
            s.setString(8, tokenSha256);
            s.executeUpdate();
        }
    }

    /** Revokes a host, unless it is revoked already; true when this call revoked it. */
    public static boolean revoke(Connection c, String hostId, String tenant, Instant at, String by, String reason)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE host SET revoked_at = ?, revoked_by = ?,"
                + " revocation_reason = ?, revocation_tenant = ? WHERE host_id = ? AND revoked_at IS NULL")) {
            s.setTimestamp(1, Timestamp.from(at));
            s.setString(2, by);
            s.setString(3, reason);
            s.setString(4, tenant);
            s.setString(5, hostId);
            return s.executeUpdate() == 1;
        }
    }

    /** The host's revocation; null when it is not revoked or does not exist. */
    public static Revocation revocation(Connection c, String hostId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(REVOCATION + " WHERE host_id = ? AND revoked_at IS NOT NULL")) {
            s.setString(1, hostId);
            return Rows.one(s, HostRepository::revocationRow);
        }
    }

    /** Revocations not yet on the topic, oldest first. */
    public static List<Revocation> unpublishedRevocations(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(REVOCATION
                + " WHERE revoked_at IS NOT NULL AND revocation_published_at IS NULL ORDER BY revoked_at LIMIT 100")) {
            return Rows.list(s, HostRepository::revocationRow);
        }
    }

    public static void revocationPublished(Connection c, String hostId, Instant at) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("UPDATE host SET revocation_published_at = ? WHERE host_id = ?")) {
            s.setTimestamp(1, Timestamp.from(at));
            s.setString(2, hostId);
            s.executeUpdate();
        }
    }

    /**
     * Notes the Kafka client certificate just issued to the host, unless it was revoked meanwhile; false then, and the
     * certificate must not be handed out.
     */
    public static boolean certificateIssued(Connection c, String hostId, String serial, Instant notAfter)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE host SET kafka_certificate_serial = ?,"
                + " kafka_certificate_not_after = ? WHERE host_id = ? AND revoked_at IS NULL")) {
            s.setString(1, serial);
            s.setTimestamp(2, Timestamp.from(notAfter));
            s.setString(3, hostId);
            return s.executeUpdate() == 1;
        }
    }

    private static final String REVOCATION = "SELECT host_id, revocation_tenant, revoked_at, revoked_by,"
            + " revocation_reason, revocation_published_at, kafka_certificate_not_after FROM host";

    private static Revocation revocationRow(ResultSet rs) throws SQLException {
        Timestamp published = rs.getTimestamp(6);
        Timestamp certificateEnd = rs.getTimestamp(7);
        return new Revocation(
                rs.getString(1),
                rs.getString(2),
                rs.getTimestamp(3).toInstant(),
                rs.getString(4),
                rs.getString(5),
                published == null ? null : published.toInstant(),
                certificateEnd == null ? null : certificateEnd.toInstant());
    }

    public static Host find(Connection c, String hostId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM host WHERE host_id = ?")) {
            s.setString(1, hostId);
            return Rows.one(s, HostRepository::row);
        }
    }

    /** The hosts enrolled in a product's channel, by host id. */
    public static List<Host> inChannel(Connection c, String product, String channel) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM host WHERE product_id = ? AND channel = ? ORDER BY host_id")) {
            s.setString(1, product);
            s.setString(2, channel);
            return Rows.list(s, HostRepository::row);
        }
    }

    private static Host row(ResultSet rs) throws SQLException {
        return new Host(
                rs.getString(1),
                (java.util.UUID) rs.getObject(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getTimestamp(6).toInstant(),
                rs.getTimestamp(7).toInstant());
    }
}
