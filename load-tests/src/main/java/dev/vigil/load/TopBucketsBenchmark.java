package dev.vigil.load;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.triage.bucket.BucketRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Random;

/**
 * The analysts' front page under load: crash triage's top-buckets query (the SQL its API runs) against the
 * devstack's real PostgreSQL holding N reports (default 1,000,000) over 30 days, 5,000 buckets with a skewed
 * (Zipf-like) share of reports, 2 products with 10 releases each, 10,000 VMs on 500 hosts. Three shapes, each run
 * 200 times after 20 warm-up runs: the whole fleet over 7 days, one product and release over 7 days, and one
 * release over 30 days. The baseline in the same run is counting the reports of the same 7 days.
 *
 * <p>Usage: {@code load-tests/run TopBucketsBenchmark [reports (1000000)]}
 */
public final class TopBucketsBenchmark {

    private static final int RUNS = 200;
    private static final int WARMUP = 20;

    public static void main(String[] args) throws Exception {
        int reports = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            Endpoints e = stack.endpoints();
            Properties props = new Properties();
            props.put("user", e.jdbcUser());
            props.put("options", "-c search_path=triage");
            try (Connection c = DriverManager.getConnection(e.jdbcUrl(), props)) {
                load(c, reports);
                Instant now = Instant.parse("2026-11-25T00:00:00Z");
                Instant week = now.minus(Duration.ofDays(7));
                Random random = new Random(1);
                long[] baseline = time(() -> {
                    try (PreparedStatement s = c.prepareStatement(
                            "SELECT count(*) FROM report WHERE detected_at >= ? AND detected_at < ?")) {
                        s.setTimestamp(1, Timestamp.from(week));
                        s.setTimestamp(2, Timestamp.from(now));
                        try (ResultSet rs = s.executeQuery()) {
                            rs.next();
                        }
                    }
                });
                long[] fleet = time(() -> BucketRepository.top(c, null, null, week, now, 50, 0));
                long[] release = time(() -> BucketRepository.top(
                        c, "Product" + random.nextInt(2), "r" + random.nextInt(10), week, now, 50, 0));
                long[] month = time(() -> BucketRepository.top(
                        c,
                        "Product" + random.nextInt(2),
                        "r" + random.nextInt(10),
                        now.minus(Duration.ofDays(30)),
                        now,
                        50,
                        0));
                describe(c, week, now);
                System.out.printf("%,d reports in %,d buckets%n", reports, 5_000);
                print("baseline: count the reports of 7 days", baseline, baseline);
                print("top 50 buckets, whole fleet, 7 days", fleet, baseline);
                print("top 50 buckets, one product and release, 7 days", release, baseline);
                print("top 50 buckets, one product and release, 30 days", month, baseline);
            }
        }
    }

    /**
     * What the run ran on: the server, the settings that shape these plans, the data's size, and the plan of the
     * fleet query with its timing and buffers, so a figure can be explained and compared.
     */
    private static void describe(Connection c, Instant from, Instant to) throws Exception {
        try (Statement s = c.createStatement()) {
            for (String q : List.of(
                    "SELECT version()",
                    "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM"
                            + " pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size',"
                            + " 'max_parallel_workers_per_gather', 'jit', 'random_page_cost')",
                    "SELECT 'report: ' || pg_size_pretty(pg_total_relation_size('report')) || ' with indexes, '"
                            + " || (SELECT count(*) FROM report) || ' rows; last analyzed '"
                            + " || coalesce((SELECT last_analyze::text FROM pg_stat_user_tables"
                            + " WHERE relname = 'report'), 'never')")) {
                try (ResultSet rs = s.executeQuery(q)) {
                    rs.next();
                    System.out.println(rs.getString(1));
                }
            }
        }
        try (PreparedStatement s = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS) SELECT r.bucket_id FROM report r"
                + " WHERE r.detected_at >= ? AND r.detected_at < ? GROUP BY r.bucket_id"
                + " ORDER BY count(*) DESC, max(r.detected_at) DESC, r.bucket_id LIMIT 50")) {
            s.setTimestamp(1, Timestamp.from(from));
            s.setTimestamp(2, Timestamp.from(to));
            try (ResultSet rs = s.executeQuery()) {
                System.out.println("plan of the fleet ranking (7 days):");
                while (rs.next()) {
                    System.out.println("  " + rs.getString(1));
                }
            }
        }
    }

    @FunctionalInterface
    private interface Query {
        void run() throws Exception;
    }

    private static long[] time(Query query) throws Exception {
        for (int i = 0; i < WARMUP; i++) {
            query.run();
        }
        long[] micros = new long[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long start = System.nanoTime();
            query.run();
            micros[i] = (System.nanoTime() - start) / 1_000;
        }
        Arrays.sort(micros);
        return micros;
    }

    private static void print(String what, long[] micros, long[] baseline) {
        long p50 = micros[RUNS / 2];
        long p99 = micros[RUNS * 99 / 100];
        System.out.printf(
                "%-52s p50 %7.2f ms  p99 %7.2f ms  (p50 %.2fx the baseline)%n",
                what, p50 / 1000.0, p99 / 1000.0, p50 / (double) baseline[RUNS / 2]);
    }

    private static void load(Connection c, int reports) throws Exception {
        long start = System.nanoTime();
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS triage");
            s.execute("SET search_path = triage");
            String migrations = "services/crash-triage/src/main/resources/db/migration";
            try (var files = Files.list(Path.of(migrations))) {
                for (Path f : files.sorted().toList()) {
                    s.execute(Files.readString(f));
                }
            }
            s.execute("INSERT INTO bucket (id, symbolic_key, title, rules_version, report_count, first_seen, last_seen)"
                    + " SELECT md5('b' || i)::uuid, 's1-' || i, 'title ' || i, 1, 0, now(), now()"
                    + " FROM generate_series(0, 4999) i");
            s.execute("INSERT INTO report (incident_id, bucket_id, origin_bucket_id, title, instant_key, symbolic_key,"
                    + " evidence, product, release, vm_uuid, vm_name, host_id, trigger, detected_at, complete, facts,"
                    + " artifacts)"
                    + " SELECT 'inc-' || i, md5('b' || b)::uuid, md5('b' || b)::uuid, 'title ' || b, 'i1-' || b,"
                    + " 's1-' || b, 'linux-console',"
                    + " 'Product' || (i % 2), 'r' || ((i / 2) % 10), 'vm-' || (i % 10000), 'vm', 'host-' || (i % 500),"
                    + " 'CRASH', timestamptz '2026-11-25' - (random() * interval '30 days'), true, null, '[]'"
                    + " FROM (SELECT i, floor(5000 * power(random(), 3))::int AS b FROM generate_series(1, " + reports
                    + ") i) g");
            s.execute("UPDATE bucket SET report_count = c.n FROM (SELECT bucket_id, count(*) n FROM report GROUP BY"
                    + " bucket_id) c WHERE c.bucket_id = bucket.id");
            // What filing maintains beside the reports: per bucket and release counts, keys of the rules version.
            s.execute("INSERT INTO bucket_release (bucket_id, product, release, report_count, first_seen, last_seen)"
                    + " SELECT bucket_id, product, release, count(*), min(detected_at), max(detected_at) FROM report"
                    + " GROUP BY bucket_id, product, release");
            s.execute("INSERT INTO bucket_key (symbolic_key, rules_version, bucket_id)"
                    + " SELECT symbolic_key, 1, id FROM bucket");
            s.execute("ANALYZE bucket_release");
            s.execute("ANALYZE bucket");
            s.execute("ANALYZE report");
        }
        System.out.printf("loaded in %,d ms%n", (System.nanoTime() - start) / 1_000_000);
    }
}
