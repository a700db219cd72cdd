package dev.vigil.dispatch.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.vigil.dispatch.domain.Enrolment;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Enrolments and their one-time tokens. */
public final class EnrolmentRepository {

    private static final String COLUMNS = "id, program_id, name, email, parameters, root_version, token_expires_at,"
            + " redeemed_at, host_id, created_at";

    private EnrolmentRepository() {}

    public static void insert(Connection c, Enrolment e, String tokenSha256) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO enrolment (id, program_id, name, email, parameters,"
                + " root_version, token_expires_at, created_at, token_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setObject(1, e.id());
            s.setString(2, e.program());
            s.setString(3, e.name());
            s.setString(4, e.email());
            s.setString(5, Json.write(e.parameters()));
            s.setLong(6, e.rootVersion());
            s.setTimestamp(7, Timestamp.from(e.tokenExpiresAt()));
            s.setTimestamp(8, Timestamp.from(e.createdAt()));
            s.setString(9, tokenSha256);
            s.executeUpdate();
        }
    }

    /**
     * Redeems a token for {@code hostId}: only once, and only before it expires. Null when it could not be; then
     * {@link #byToken} says why.
     */
    public static Enrolment redeem(Connection c, String tokenSha256, String hostId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE enrolment SET redeemed_at = now(), host_id = ?"
                + " WHERE token_sha256 = ? AND redeemed_at IS NULL AND token_expires_at > now()"
                + " RETURNING " + COLUMNS)) {
            s.setString(1, hostId);
            s.setString(2, tokenSha256);
            return Rows.one(s, EnrolmentRepository::row);
        }
    }

    public static Enrolment byToken(Connection c, String tokenSha256) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM enrolment WHERE token_sha256 = ?")) {
            s.setString(1, tokenSha256);
            return Rows.one(s, EnrolmentRepository::row);
        }
    }

    public static Enrolment find(Connection c, UUID id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM enrolment WHERE id = ?")) {
            s.setObject(1, id);
            return Rows.one(s, EnrolmentRepository::row);
        }
    }

    /** A programme's enrolments, newest first. */
    public static List<Enrolment> ofProgram(Connection c, String program, int limit) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT " + COLUMNS + " FROM enrolment WHERE program_id = ? ORDER BY created_at DESC LIMIT ?")) {
            s.setString(1, program);
            s.setInt(2, limit);
            return Rows.list(s, EnrolmentRepository::row);
        }
    }

    private static Enrolment row(ResultSet rs) throws SQLException {
        return new Enrolment(
                (UUID) rs.getObject(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                Json.read(rs.getString(5), new TypeReference<Map<String, String>>() {}),
                rs.getLong(6),
                rs.getTimestamp(7).toInstant(),
                ReleaseRepository.instant(rs.getTimestamp(8)),
                rs.getString(9),
                rs.getTimestamp(10).toInstant());
    }
}
