package dev.vigil.dispatch.persistence;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.vigil.dispatch.domain.CollectionPolicies;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Crash triage's newest collection request per bucket, and the policy last sent to each host. */
public final class CollectionRepository {

    /** A stored request. */
    public record Stored(String bucket, long sequence, String dump, List<String> triggers, List<String> hosts) {}

    private CollectionRepository() {}

    /** The bucket's stored request, locked; null when none. */
    public static Stored find(Connection c, String bucket) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT bucket_id, sequence, dump, triggers, host_ids FROM collection_request WHERE bucket_id = ?"
                        + " FOR UPDATE")) {
            s.setString(1, bucket);
            return Rows.one(s, CollectionRepository::row);
        }
    }

    public static void save(Connection c, Stored request) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO collection_request (bucket_id, sequence, dump,"
                + " triggers, host_ids, received_at) VALUES (?, ?, ?, ?, ?, now()) ON CONFLICT (bucket_id) DO UPDATE"
                + " SET sequence = EXCLUDED.sequence, dump = EXCLUDED.dump, triggers = EXCLUDED.triggers,"
                + " host_ids = EXCLUDED.host_ids, received_at = EXCLUDED.received_at")) {
            s.setString(1, request.bucket());
            s.setLong(2, request.sequence());
            s.setString(3, request.dump());
            s.setString(4, Json.write(request.triggers()));
            s.setArray(5, c.createArrayOf("text", request.hosts().toArray()));
            s.executeUpdate();
        }
    }

    /** Every live request naming the host. */
    public static List<CollectionPolicies.Request> forHost(Connection c, String host) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT dump, triggers FROM collection_request WHERE host_ids @> ARRAY[?]::text[]")) {
            s.setString(1, host);
            List<CollectionPolicies.Request> requests = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    requests.add(new CollectionPolicies.Request(
                            rs.getString(1), Json.read(rs.getString(2), new TypeReference<List<String>>() {})));
                }
            }
            return requests;
        }
    }

    /** The arguments last sent to the host, or null. */
    public static Map<String, String> sent(Connection c, String host) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT arguments FROM host_collection_policy WHERE host_id = ? FOR UPDATE")) {
            s.setString(1, host);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Json.read(rs.getString(1), new TypeReference<Map<String, String>>() {}) : null;
            }
        }
    }

    public static void sent(Connection c, String host, Map<String, String> arguments, UUID command)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("INSERT INTO host_collection_policy (host_id, arguments,"
                + " command_id, updated_at) VALUES (?, ?, ?, now()) ON CONFLICT (host_id) DO UPDATE SET"
                + " arguments = EXCLUDED.arguments, command_id = EXCLUDED.command_id, updated_at = now()")) {
            s.setString(1, host);
            s.setString(2, Json.write(new java.util.TreeMap<>(arguments)));
            s.setObject(3, command);
            s.executeUpdate();
        }
    }

    private static Stored row(ResultSet rs) throws SQLException {
        Array hosts = rs.getArray(5);
        return new Stored(
                rs.getString(1),
                rs.getLong(2),
                rs.getString(3),
                Json.read(rs.getString(4), new TypeReference<List<String>>() {}),
                Arrays.asList((String[]) hosts.getArray()));
    }
}
