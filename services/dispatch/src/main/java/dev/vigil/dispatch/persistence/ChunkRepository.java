package dev.vigil.dispatch.persistence;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The chunks held in object storage, each checked against its hash when it came in. */
public final class ChunkRepository {

    private ChunkRepository() {}

    /** Records a stored chunk (again is harmless). */
    public static void stored(Connection c, String sha256, int length) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("INSERT INTO chunk (sha256, length, stored_at) VALUES (?, ?, now())"
                        + " ON CONFLICT (sha256) DO NOTHING")) {
            s.setString(1, sha256);
            s.setInt(2, length);
            s.executeUpdate();
        }
    }

    public static boolean exists(Connection c, String sha256) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM chunk WHERE sha256 = ?")) {
            s.setString(1, sha256);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Those of {@code hashes} not stored yet, in their order, once each. */
    public static Set<String> missing(Connection c, List<String> hashes) throws SQLException {
        Set<String> wanted = new LinkedHashSet<>(hashes);
        Set<String> present = new HashSet<>();
        try (PreparedStatement s = c.prepareStatement("SELECT sha256 FROM chunk WHERE sha256 = ANY (?)")) {
            Array array = c.createArrayOf("text", wanted.toArray());
            s.setArray(1, array);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    present.add(rs.getString(1));
                }
            }
        }
        wanted.removeAll(present);
        return wanted;
    }
}
