package dev.vigil.dispatch.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.vigil.dispatch.domain.Program;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/** Beta programmes. */
public final class ProgramRepository {

    private static final String COLUMNS = "id, product_id, channel, title, description, open, invitation_sha256,"
            + " license_days, features, created_by, created_at";

    private ProgramRepository() {}

    public static boolean insert(Connection c, Program p) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO program (" + COLUMNS
                + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
            s.setString(1, p.id());
            s.setString(2, p.product());
            s.setString(3, p.channel());
            s.setString(4, p.title());
            s.setString(5, p.description());
            s.setBoolean(6, p.open());
            s.setString(7, p.invitationSha256());
            s.setInt(8, p.licenseDays());
            s.setString(9, Json.write(p.features()));
            s.setString(10, p.createdBy());
            s.setTimestamp(11, Timestamp.from(p.createdAt()));
            return s.executeUpdate() == 1;
        }
    }

    public static Program find(Connection c, String id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM program WHERE id = ?")) {
            s.setString(1, id);
            return Rows.one(s, ProgramRepository::row);
        }
    }

    /** Every programme, or only the open ones. */
    public static List<Program> all(Connection c, boolean openOnly) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                        "SELECT " + COLUMNS + " FROM program" + (openOnly ? " WHERE open" : "") + " ORDER BY title");
                ResultSet rs = s.executeQuery()) {
            List<Program> programs = new ArrayList<>();
            while (rs.next()) {
                programs.add(row(rs));
            }
            return programs;
        }
    }

    private static Program row(ResultSet rs) throws SQLException {
        return new Program(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getBoolean(6),
                rs.getString(7),
                rs.getInt(8),
                Json.read(rs.getString(9), new TypeReference<List<String>>() {}),
                rs.getString(10),
                rs.getTimestamp(11).toInstant());
    }
}
