package dev.vigil.dispatch.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.ReleaseState;
import dev.vigil.dispatch.domain.TemplateParameter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.List;

/** Releases, their image manifests and their states. */
public final class ReleaseRepository {

    private static final String COLUMNS = "product_id, version, channel, state, format, image_size, image_sha256,"
            + " virtual_size, manifest_sha256, octet_length(manifest), chunk_count, verified_bytes, rejection, domain_template,"
            + " template_sha256, parameters, notes, created_by, created_at, verified_at, published_by, published_at";

    private ReleaseRepository() {}

    /** Inserts a draft release; false when the product has one with this version. */
    public static boolean insert(Connection c, Release release) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO product_release (product_id, version, channel,"
                + " state, domain_template, template_sha256, parameters, notes, created_by, created_at)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (product_id, version) DO NOTHING")) {
            s.setString(1, release.product());
            s.setString(2, release.version());
            s.setString(3, release.channel());
            s.setString(4, release.state().name());
            s.setString(5, release.domainTemplate());
            s.setString(6, release.templateSha256());
            s.setString(7, Json.write(release.parameters()));
            s.setString(8, release.notes());
            s.setString(9, release.createdBy());
            s.setTimestamp(10, Timestamp.from(release.createdAt()));
            return s.executeUpdate() == 1;
        }
    }

    /** A release, locked for update when {@code lock}; null when absent. */
    public static Release find(Connection c, String product, String version, boolean lock) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS
                + " FROM product_release WHERE product_id = ? AND version = ?" + (lock ? " FOR UPDATE" : ""))) {
            s.setString(1, product);
            s.setString(2, version);
            return Rows.one(s, ReleaseRepository::row);
        }
    }

    /** A product's releases, newest first. */
    public static List<Release> ofProduct(Connection c, String product) throws SQLException {
        return list(
                c,
                "SELECT " + COLUMNS + " FROM product_release WHERE product_id = ? ORDER BY created_at DESC",
                product);
    }

    /** A product's published releases, by version. */
    public static List<Release> published(Connection c, String product) throws SQLException {
        return list(
                c,
                "SELECT " + COLUMNS + " FROM product_release WHERE product_id = ? AND state = 'PUBLISHED'"
                        + " ORDER BY version",
                product);
    }

    /** Records a declared image; the release goes back to UPLOADING. */
    public static void declareImage(
            Connection c,
            String product,
            String version,
            String format,
            long size,
            String sha256,
            byte[] manifest,
            String manifestSha256,
            int chunks)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE product_release SET state = 'UPLOADING', format = ?,"
                + " image_size = ?, image_sha256 = ?, virtual_size = NULL, manifest = ?, manifest_sha256 = ?,"
                + " chunk_count = ?, verified_bytes = 0, rejection = NULL, image_at = now()"
                + " WHERE product_id = ? AND version = ?")) {
            s.setString(1, format);
            s.setLong(2, size);
            s.setString(3, sha256);
            s.setBytes(4, manifest);
            s.setString(5, manifestSha256);
            s.setInt(6, chunks);
            s.setString(7, product);
            s.setString(8, version);
            s.executeUpdate();
        }
    }

    /** The stored manifest bytes, or null. */
    public static byte[] manifest(Connection c, String product, String version) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT manifest FROM product_release WHERE product_id = ? AND version = ?")) {
            s.setString(1, product);
            s.setString(2, version);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        }
    }

    public static void setState(Connection c, String product, String version, ReleaseState state) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("UPDATE product_release SET state = ? WHERE product_id = ? AND version = ?")) {
            s.setString(1, state.name());
            s.setString(2, product);
            s.setString(3, version);
            s.executeUpdate();
        }
    }

    /** Verification progress, written as it reads. */
    public static void progress(Connection c, String product, String version, long verifiedBytes) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "UPDATE product_release SET verified_bytes = ? WHERE product_id = ? AND version = ?")) {
            s.setLong(1, verifiedBytes);
            s.setString(2, product);
            s.setString(3, version);
            s.executeUpdate();
        }
    }

    /** The verdict of a verification that read the manifest {@code manifestSha256}; false if it was replaced. */
    public static boolean verdict(
            Connection c,
            String product,
            String version,
            String manifestSha256,
            Long virtualSize,
            String rejection,
            long verifiedBytes)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE product_release SET state = ?, virtual_size = ?,"
                + " rejection = ?, verified_bytes = ?, verified_at = now()"
                + " WHERE product_id = ? AND version = ? AND manifest_sha256 = ? AND state = 'VERIFYING'")) {
            s.setString(1, rejection == null ? ReleaseState.VERIFIED.name() : ReleaseState.REJECTED.name());
            if (virtualSize == null) {
                s.setNull(2, Types.BIGINT);
            } else {
                s.setLong(2, virtualSize);
            }
            s.setString(3, rejection);
            s.setLong(4, verifiedBytes);
            s.setString(5, product);
            s.setString(6, version);
            s.setString(7, manifestSha256);
            return s.executeUpdate() == 1;
        }
    }

    public static void published(Connection c, String product, String version, String by, Instant at)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE product_release SET state = 'PUBLISHED',"
                + " published_by = ?, published_at = ? WHERE product_id = ? AND version = ?")) {
            s.setString(1, by);
            s.setTimestamp(2, Timestamp.from(at));
            s.setString(3, product);
            s.setString(4, version);
            s.executeUpdate();
        }
    }

    /** Releases left VERIFYING by a stopped replica, to verify again. */
    public static List<Release> verifying(Connection c) throws SQLException {
        return list(c, "SELECT " + COLUMNS + " FROM product_release WHERE state = 'VERIFYING'", null);
    }

    /** The channel heads of a product: channel to release version. */
    public static java.util.Map<String, String> channelHeads(Connection c, String product) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT channel, version FROM channel_head WHERE product_id = ? ORDER BY channel")) {
            s.setString(1, product);
            java.util.Map<String, String> heads = new java.util.TreeMap<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    heads.put(rs.getString(1), rs.getString(2));
                }
            }
            return heads;
        }
    }

    /** The release a channel offers, or null. */
    public static String channelHead(Connection c, String product, String channel) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT version FROM channel_head WHERE product_id = ? AND channel = ?")) {
            s.setString(1, product);
            s.setString(2, channel);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    public static void setChannelHead(Connection c, String product, String channel, String version)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO channel_head (product_id, channel, version,"
                + " updated_at) VALUES (?, ?, ?, now()) ON CONFLICT (product_id, channel)"
                + " DO UPDATE SET version = EXCLUDED.version, updated_at = now()")) {
            s.setString(1, product);
            s.setString(2, channel);
            s.setString(3, version);
            s.executeUpdate();
        }
    }

    private static List<Release> list(Connection c, String sql, String product) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            if (product != null) {
                s.setString(1, product);
            }
            return Rows.list(s, ReleaseRepository::row);
        }
    }

    private static Release row(ResultSet rs) throws SQLException {
        return new Release(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                ReleaseState.valueOf(rs.getString(4)),
                rs.getString(5),
                (Long) rs.getObject(6),
                rs.getString(7),
                (Long) rs.getObject(8),
                rs.getString(9),
                (Integer) rs.getObject(10),
                (Integer) rs.getObject(11),
                rs.getLong(12),
                rs.getString(13),
                rs.getString(14),
                rs.getString(15),
                Json.read(rs.getString(16), new TypeReference<List<TemplateParameter>>() {}),
                rs.getString(17),
                rs.getString(18),
                rs.getTimestamp(19).toInstant(),
                instant(rs.getTimestamp(20)),
                rs.getString(21),
                instant(rs.getTimestamp(22)));
    }

    static Instant instant(Timestamp timestamp) {
        return timestamp == null ? null : timestamp.toInstant();
    }
}
