package dev.vigil.dispatch.persistence;

import dev.vigil.dispatch.domain.Product;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/** Products. */
public final class ProductRepository {

    private ProductRepository() {}

    /** Inserts a product; false when one with its id exists. */
    public static boolean insert(Connection c, Product product) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO product (id, name, description, created_by, created_at) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (id) DO NOTHING")) {
            s.setString(1, product.id());
            s.setString(2, product.name());
            s.setString(3, product.description());
            s.setString(4, product.createdBy());
            s.setTimestamp(5, Timestamp.from(product.createdAt()));
            return s.executeUpdate() == 1;
        }
    }

    public static Product find(Connection c, String id) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT id, name, description, created_by, created_at FROM product WHERE id = ?")) {
            s.setString(1, id);
            return Rows.one(s, ProductRepository::row);
        }
    }

    public static List<Product> all(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                        "SELECT id, name, description, created_by, created_at FROM product ORDER BY id");
                ResultSet rs = s.executeQuery()) {
            List<Product> products = new ArrayList<>();
            while (rs.next()) {
                products.add(row(rs));
            }
            return products;
        }
    }

    private static Product row(ResultSet rs) throws SQLException {
        return new Product(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getTimestamp(5).toInstant());
    }
}
