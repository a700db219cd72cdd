package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.Endpoints;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Migration V10 turns the per-VM rows stored so far into one row per host and bucket, and the per-VM view reads
 * them back as they were: run on a schema of its own, migrated to V9, filled, then migrated on.
 */
class HostSampleMigrationIT {

    private static final String A = "0a000000-0000-4000-8000-000000000001";
    private static final String B = "0b000000-0000-4000-8000-000000000002";
    private static final String C = "0c000000-0000-4000-8000-000000000003";

    private final Endpoints endpoints = Devstack.shared().endpoints();
    private final String schema = "migration_" + UUID.randomUUID().toString().replace("-", "");

    @Test
    void perVmRowsBecomeOneRowPerHostAndBucketAndReadBackTheSame() throws Exception {
        migrate("9");
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute("SET search_path TO " + schema);
            // Host h1: two VMs sampled at different times in the 12:00 bucket, one of them again at 12:01; host h2:
            // one VM without CPU time or balloon.
            s.execute("INSERT INTO vm_sample (vm_uuid, sampled_at, host_id, state, cpu_time_ns, read_bytes,"
                    + " write_bytes, rx_bytes, tx_bytes, balloon_kib, bucket) VALUES"
                    + " ('" + B + "', '2026-11-20 12:00:05Z', 'h1', 'RUNNING', 50, 1, 2, 3, 4, 1024,"
                    + " '2026-11-20 12:00Z'),"
                    + " ('" + A + "', '2026-11-20 12:00:02Z', 'h1', 'PAUSED', 20, 5, 6, 7, 8, 2048,"
                    + " '2026-11-20 12:00Z'),"
                    + " ('" + A + "', '2026-11-20 12:01:02Z', 'h1', 'RUNNING', 80, 9, 10, 11, 12, 2048,"
                    + " '2026-11-20 12:01Z'),"
                    + " ('" + C + "', '2026-11-20 12:00:04Z', 'h2', 'SHUTOFF', NULL, 0, 0, 0, 0, NULL,"
                    + " '2026-11-20 12:00Z')");
        }
        List<String> before = vmRows();

        migrate("10");

        assertThat(rows("SELECT host_id, bucket AT TIME ZONE 'UTC', sampled_at AT TIME ZONE 'UTC',"
                        + " vm_uuids::text, states::text, cpu_time_ns::text, balloon_kib::text"
                        + " FROM host_sample ORDER BY host_id, bucket"))
                .containsExactly(
                        "h1|2026-11-20 12:00:00|2026-11-20 12:00:02|{" + A + "," + B
                                + "}|{PAUSED,RUNNING}|{20,50}|{2048,1024}",
                        "h1|2026-11-20 12:01:00|2026-11-20 12:01:02|{" + A + "}|{RUNNING}|{80}|{2048}",
                        "h2|2026-11-20 12:00:00|2026-11-20 12:00:04|{" + C + "}|{SHUTOFF}|{NULL}|{NULL}");
        // The view gives every VM's counters back; only a VM's own time becomes its row's earliest in the bucket.
        assertThat(vmRows())
                .containsExactlyElementsOf(before.stream()
                        .map(row -> row.replace("2026-11-20 12:00:05", "2026-11-20 12:00:02"))
                        .toList());
    }

    @AfterEach
    void dropSchema() throws Exception {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
        }
    }

    private List<String> vmRows() throws Exception {
        return rows("SELECT vm_uuid, sampled_at AT TIME ZONE 'UTC', host_id, state, cpu_time_ns, read_bytes,"
                + " write_bytes, rx_bytes, tx_bytes, balloon_kib, bucket AT TIME ZONE 'UTC'"
                + " FROM vm_sample ORDER BY host_id, bucket, vm_uuid");
    }

    private void migrate(String target) {
        Flyway.configure()
                .dataSource(endpoints.jdbcUrl(), endpoints.jdbcUser(), "")
                .schemas(schema)
                .defaultSchema(schema)
                .locations("classpath:db/migration")
                .target(target)
                .load()
                .migrate();
    }

    private List<String> rows(String sql) throws Exception {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute("SET search_path TO " + schema);
            try (ResultSet r = s.executeQuery(sql)) {
                int columns = r.getMetaData().getColumnCount();
                List<String> rows = new ArrayList<>();
                while (r.next()) {
                    List<String> values = new ArrayList<>();
                    for (int i = 1; i <= columns; i++) {
                        values.add(String.valueOf(r.getString(i)));
                    }
                    rows.add(String.join("|", values));
                }
                return rows;
            }
        }
    }

    private Connection connect() throws Exception {
        return DriverManager.getConnection(endpoints.jdbcUrl(), endpoints.jdbcUser(), "");
    }
}
