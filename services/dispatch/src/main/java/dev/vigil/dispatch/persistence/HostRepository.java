package dev.vigil.dispatch.persistence;

import dev.vigil.dispatch.domain.Host;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;

/** Enrolled hosts and their API tokens (as hashes). */
public final class HostRepository {

    private static final String COLUMNS =
            "host_id, enrolment_id, product_id, channel, agent_version, enrolled_at, last_seen_at";

    private HostRepository() {}

    /** The host a token was given to, or null; notes that the host was seen. */
    public static String hostOfToken(Connection c, String tokenSha256) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("UPDATE host SET last_seen_at = now() WHERE token_sha256 = ? RETURNING host_id")) {
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
