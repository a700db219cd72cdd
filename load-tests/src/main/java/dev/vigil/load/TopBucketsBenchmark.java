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
 * (Zipf-like) share of reports, 2 products with 10 releases each, 10,000 VMs on 500 hosts. Three shapes: the whole
 * fleet over 7 days, one product and release over 7 days, and one release over 30 days, each window ending at a
 * minute that is not an hour, so that all three sources of the ranking (days, hours, the edge minutes' reports)
 * are read. Each is run by crash triage's ranking from roll-ups and by the ranking that counts reports (the design
 * before the roll-ups, kept here as the same-run baseline), after 20 warm-up runs (or as many as the runs); and counting the reports of the
 * 7 days is the floor both are compared with.
 *
 * <p>Usage: {@code load-tests/run TopBucketsBenchmark [reports (1000000)] [runs (200)] [runs of the counting
 * ranking (200)]}
 */
public final class TopBucketsBenchmark {

    private static final int WARMUP = 20;

    public static void main(String[] args) throws Exception {
        int reports = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int countingRuns = args.length > 2 ? Integer.parseInt(args[2]) : runs;
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            try (Connection c = connect(stack.endpoints())) {
                load(c, reports, Instant.parse("2026-11-25T00:00:00Z"));
                Instant now = Instant.parse("2026-11-24T17:43:00Z");
                Instant week = now.minus(Duration.ofDays(7));
                Instant month = now.minus(Duration.ofDays(30));
                Random random = new Random(1);
                long[] floor = time(runs, () -> {
                    try (PreparedStatement s = c.prepareStatement(
                            "SELECT count(*) FROM report WHERE detected_at >= ? AND detected_at < ?")) {
                        s.setTimestamp(1, Timestamp.from(week));
                        s.setTimestamp(2, Timestamp.from(now));
                        try (ResultSet rs = s.executeQuery()) {
                            rs.next();
                        }
                    }
                });
                System.out.printf("%,d reports in %,d buckets%n", reports, 5_000);
                print("floor: count the reports of 7 days", floor, floor, floor);
                for (boolean rollUps : new boolean[] {false, true}) {
                    int n = rollUps ? runs : countingRuns;
                    Ranking top = rollUps
                            ? (db, product, release, from, to) ->
                                    BucketRepository.top(db, product, release, from, to, 50, 0)
                            : TopBucketsBenchmark::counted;
                    long[] fleet = time(n, () -> top.rank(c, null, null, week, now));
                    long[] release = time(
                            n, () -> top.rank(c, "Product" + random.nextInt(2), "r" + random.nextInt(10), week, now));
                    long[] releaseMonth = time(
                            n, () -> top.rank(c, "Product" + random.nextInt(2), "r" + random.nextInt(10), month, now));
                    String how = rollUps ? "roll-ups" : "counting";
                    results.put(how + ": top 50, whole fleet, 7 days", fleet);
                    results.put(how + ": top 50, one release, 7 days", release);
                    results.put(how + ": top 50, one release, 30 days", releaseMonth);
                }
                describe(c, week, now);
                for (var result : results.entrySet()) {
                    String shape = result.getKey().substring(result.getKey().indexOf(':'));
                    print(result.getKey(), result.getValue(), floor, results.get("counting" + shape));
                }
            }
        }
    }

    /** A top-buckets ranking. */
    @FunctionalInterface
    private interface Ranking {
        List<BucketRepository.BucketRow> rank(Connection c, String product, String release, Instant from, Instant to)
                throws Exception;
    }

    private static final java.util.Map<String, long[]> results = new java.util.LinkedHashMap<>();

    /**
     * The ranking as crash triage answered it before the roll-ups: count the window's reports per bucket, then read
     * hosts, VMs and first and last reports of the page's 50 buckets.
     */
    private static List<BucketRepository.BucketRow> counted(
            Connection c, String product, String release, Instant from, Instant to) throws Exception {
        String filter = " WHERE r.detected_at >= ? AND r.detected_at < ?"
                + (product == null ? "" : " AND r.product = ?") + (release == null ? "" : " AND r.release = ?");
        List<Object> ranked = new java.util.ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT r.bucket_id FROM report r" + filter
                + " GROUP BY r.bucket_id ORDER BY count(*) DESC, max(r.detected_at) DESC, r.bucket_id LIMIT 50")) {
            bind(s, product, release, from, to);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ranked.add(rs.getObject(1));
                }
            }
        }
        List<BucketRepository.BucketRow> rows = new java.util.ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
                "SELECT b.id, b.title, b.symbolic_key, b.rules_version, count(*), count(DISTINCT r.host_id),"
                        + " count(DISTINCT r.vm_uuid), min(r.detected_at), max(r.detected_at)"
                        + " FROM bucket b JOIN report r ON r.bucket_id = b.id" + filter
                        + " AND b.id = ANY (?) GROUP BY b.id, b.title, b.symbolic_key, b.rules_version")) {
            int n = bind(s, product, release, from, to);
            s.setArray(n, c.createArrayOf("uuid", ranked.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new BucketRepository.BucketRow(
                            rs.getObject(1, java.util.UUID.class),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getInt(4),
                            rs.getLong(5),
                            rs.getLong(6),
                            rs.getLong(7),
                            rs.getTimestamp(8).toInstant(),
                            rs.getTimestamp(9).toInstant()));
                }
            }
        }
        return rows;
    }

    private static int bind(PreparedStatement s, String product, String release, Instant from, Instant to)
            throws Exception {
        int n = 1;
        s.setTimestamp(n++, Timestamp.from(from));
        s.setTimestamp(n++, Timestamp.from(to));
        if (product != null) {
            s.setString(n++, product);
        }
        if (release != null) {
            s.setString(n++, release);
        }
        return n;
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
        // Every statement of one fleet ranking with its plan, timing and buffers, as auto_explain logs them.
        try (Statement s = c.createStatement()) {
            s.execute("LOAD 'auto_explain'");
            s.execute("SET auto_explain.log_min_duration = 0");
            s.execute("SET auto_explain.log_analyze = on");
            s.execute("SET auto_explain.log_buffers = on");
            s.execute("SET auto_explain.log_level = notice");
            s.execute("SET client_min_messages = notice");
        }
        System.out.println("plans of the fleet ranking from roll-ups (7 days):");
        BucketRepository.top(c, null, null, from, to, 50, 0);
        for (java.sql.SQLWarning w = c.getWarnings(); w != null; w = w.getNextWarning()) {
            System.out.println("  " + w.getMessage().replace("\n", "\n  "));
        }
        c.clearWarnings();
        try (Statement s = c.createStatement()) {
            s.execute("SET auto_explain.log_min_duration = -1");
        }
    }

    @FunctionalInterface
    private interface Query {
        void run() throws Exception;
    }

    private static long[] time(int runs, Query query) throws Exception {
        for (int i = 0; i < Math.min(WARMUP, runs); i++) {
            query.run();
        }
        long[] micros = new long[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            query.run();
            micros[i] = (System.nanoTime() - start) / 1_000;
        }
        Arrays.sort(micros);
        return micros;
    }

    private static void print(String what, long[] micros, long[] floor, long[] counting) {
        long p50 = p(micros, 50);
        System.out.printf(
                "%-44s runs %4d  p50 %8.2f ms  p99 %8.2f ms  p50 %6.2fx the floor, %6.3fx counting%n",
                what,
                micros.length,
                p50 / 1000.0,
                p(micros, 99) / 1000.0,
                p50 / (double) p(floor, 50),
                p50 / (double) p(counting, 50));
    }

    private static long p(long[] sorted, int percentile) {
        return sorted[Math.min(sorted.length - 1, sorted.length * percentile / 100)];
    }

    /** A connection to the stack's database in crash triage's schema. */
    static Connection connect(Endpoints e) throws java.sql.SQLException {
        Properties props = new Properties();
        props.put("user", e.jdbcUser());
        props.put("options", "-c search_path=triage");
        return DriverManager.getConnection(e.jdbcUrl(), props);
    }

    static int version(Path migration) {
        String name = migration.getFileName().toString();
        return Integer.parseInt(name.substring(1, name.indexOf("__")));
    }

    /**
     * Crash triage's schema (its migrations, applied as Flyway would) with {@code reports} reports over the 30 days
     * before {@code end} in 5,000 buckets, and the roll-ups filing keeps, built by triage's own code.
     */
    static void load(Connection c, int reports, Instant end) throws Exception {
        long start = System.nanoTime();
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS triage");
            s.execute("SET search_path = triage");
            String migrations = "services/crash-triage/src/main/resources/db/migration";
            try (var files = Files.list(Path.of(migrations))) {
                // In version order (V10 after V9), as Flyway applies them.
                for (Path f : files.sorted(java.util.Comparator.comparingInt(TopBucketsBenchmark::version))
                        .toList()) {
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
                    + " 'CRASH', timestamptz '" + end + "' - (random() * interval '30 days'), true, null, '[]'"
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
            s.execute("VACUUM ANALYZE report");
        }
        System.out.printf("loaded %,d reports in %,d ms%n", reports, (System.nanoTime() - start) / 1_000_000);
        // The roll-ups filing keeps, rebuilt by crash triage's own code (what a merge does for one bucket).
        long tally = System.nanoTime();
        c.setAutoCommit(false);
        BucketRepository.retally(c, null);
        c.commit();
        c.setAutoCommit(true);
        System.out.printf("roll-ups built in %,d ms%n", (System.nanoTime() - tally) / 1_000_000);
        try (Statement s = c.createStatement()) {
            // What autovacuum does soon after: statistics, and the visibility map that index-only scans need.
            for (String table : List.of(
                    "bucket_release",
                    "bucket",
                    "bucket_key",
                    "bucket_tally",
                    "release_tally",
                    "bucket_reach",
                    "release_reach")) {
                s.execute("VACUUM ANALYZE " + table);
            }
        }
    }
}
