package dev.vigil.dispatch.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.vigil.dispatch.domain.LicenseRecord;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import java.util.UUID;

/** Licenses and the signed document last issued for each. */
public final class LicenseRepository {

    private static final String COLUMNS = "id, product_id, host_id, enrolment_id, features, valid_from, valid_until,"
            + " lease_seconds, grace_seconds, sequence, lease_expires_at, grace_until, document, issued_by, issued_at,"
            + " renewed_at, revoked_at, revoked_by, revocation_reason";

    private LicenseRepository() {}

    public static void insert(Connection c, LicenseRecord l) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO license (" + COLUMNS + ") VALUES"
                + " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setObject(1, l.id());
            s.setString(2, l.product());
            s.setString(3, l.hostId());
            s.setObject(4, l.enrolmentId());
            s.setString(5, Json.write(l.features()));
            s.setTimestamp(6, Timestamp.from(l.validFrom()));
            s.setTimestamp(7, Timestamp.from(l.validUntil()));
            s.setLong(8, l.leaseSeconds());
            s.setLong(9, l.graceSeconds());
            s.setLong(10, l.sequence());
            s.setTimestamp(11, Timestamp.from(l.leaseExpiresAt()));
            s.setTimestamp(12, Timestamp.from(l.graceUntil()));
            s.setBytes(13, l.document());
            s.setString(14, l.issuedBy());
            s.setTimestamp(15, Timestamp.from(l.issuedAt()));
            s.setTimestamp(16, timestamp(l.renewedAt()));
            s.setTimestamp(17, timestamp(l.revokedAt()));
            s.setString(18, l.revokedBy());
            s.setString(19, l.revocationReason());
            s.executeUpdate();
        }
    }

    /** Writes a license's new state and document (a renewal, an extension, a revocation). */
    public static void update(Connection c, LicenseRecord l) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE license SET valid_until = ?, sequence = ?,"
                + " lease_expires_at = ?, grace_until = ?, document = ?, renewed_at = ?, revoked_at = ?,"
                + " revoked_by = ?, revocation_reason = ? WHERE id = ?")) {
            s.setTimestamp(1, Timestamp.from(l.validUntil()));
            s.setLong(2, l.sequence());
            s.setTimestamp(3, Timestamp.from(l.leaseExpiresAt()));
            s.setTimestamp(4, Timestamp.from(l.graceUntil()));
            s.setBytes(5, l.document());
            s.setTimestamp(6, timestamp(l.renewedAt()));
            s.setTimestamp(7, timestamp(l.revokedAt()));
            s.setString(8, l.revokedBy());
            s.setString(9, l.revocationReason());
            s.setObject(10, l.id());
            s.executeUpdate();
        }
    }

    /** A license, locked for update when {@code lock}; null when absent. */
    public static LicenseRecord find(Connection c, UUID id, boolean lock) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT " + COLUMNS + " FROM license WHERE id = ?" + (lock ? " FOR UPDATE" : ""))) {
            s.setObject(1, id);
            return Rows.one(s, LicenseRepository::row);
        }
    }

    /** Licenses by host and/or product (either may be null), newest first. */
    public static List<LicenseRecord> search(Connection c, String hostId, String product, int limit)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM license"
                + " WHERE (?::text IS NULL OR host_id = ?) AND (?::text IS NULL OR product_id = ?)"
                + " ORDER BY issued_at DESC LIMIT ?")) {
            s.setString(1, hostId);
            s.setString(2, hostId);
            s.setString(3, product);
            s.setString(4, product);
            s.setInt(5, limit);
            return Rows.list(s, LicenseRepository::row);
        }
    }

    private static Timestamp timestamp(java.time.Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }

    private static LicenseRecord row(ResultSet rs) throws SQLException {
        return new LicenseRecord(
                (UUID) rs.getObject(1),
                rs.getString(2),
                rs.getString(3),
                (UUID) rs.getObject(4),
                Json.read(rs.getString(5), new TypeReference<List<String>>() {}),
                rs.getTimestamp(6).toInstant(),
                rs.getTimestamp(7).toInstant(),
                rs.getLong(8),
                rs.getLong(9),
                rs.getLong(10),
                rs.getTimestamp(11).toInstant(),
                rs.getTimestamp(12).toInstant(),
                rs.getBytes(13),
                rs.getString(14),
                rs.getTimestamp(15).toInstant(),
                ReleaseRepository.instant(rs.getTimestamp(16)),
                ReleaseRepository.instant(rs.getTimestamp(17)),
                rs.getString(18),
                rs.getString(19));
    }
}
