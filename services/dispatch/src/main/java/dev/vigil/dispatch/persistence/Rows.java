package dev.vigil.dispatch.persistence;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Reads the rows a prepared query answers, with the repository's own mapping of a row. */
final class Rows {

    /** Maps the current row of a result set. */
    @FunctionalInterface
    interface Mapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    private Rows() {}

    /** Every row. */
    static <T> List<T> list(PreparedStatement statement, Mapper<T> mapper) throws SQLException {
        List<T> rows = new ArrayList<>();
        try (ResultSet rs = statement.executeQuery()) {
            while (rs.next()) {
                rows.add(mapper.map(rs));
            }
        }
        return rows;
    }

    /** The first row, or null. */
    static <T> T one(PreparedStatement statement, Mapper<T> mapper) throws SQLException {
        try (ResultSet rs = statement.executeQuery()) {
            return rs.next() ? mapper.map(rs) : null;
        }
    }
}
