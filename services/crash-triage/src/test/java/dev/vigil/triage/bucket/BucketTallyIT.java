package dev.vigil.triage.bucket;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.triage.api.JwtKeys;
import dev.vigil.triage.bucket.BucketRepository.BucketRow;
import dev.vigil.triage.bucket.BucketRepository.NewReport;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The top-buckets ranking from roll-ups against the plain count of the reports, on the devstack's PostgreSQL: for
 * windows that cut minutes, hours and days, for the fleet, a product and a release, the same buckets in the same
 * order with the same counts and first and last reports; hosts and VMs close to the exact distinct counts; and the
 * roll-ups a merge rebuilds equal to those kept at filing. Everything runs in one transaction that is rolled back, in
 * 2019, where no other test files reports.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class BucketTallyIT {

    private static final Instant START = Instant.parse("2019-03-04T00:00:00Z");
    private static final Duration SPREAD = Duration.ofHours(80);

    @Inject
    AgroalDataSource db;

    @Test
    void theRankingFromRollUpsIsTheCountOfTheReportsForAnyWindow() throws Exception {
        String product = "Tally-" + UUID.randomUUID();
        Random random = new Random(11);
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                List<UUID> buckets = file(c, product, random);
                List<Instant[]> windows = new ArrayList<>();
                windows.add(new Instant[] {START, START.plus(SPREAD)});
                windows.add(new Instant[] {START.minus(Duration.ofDays(3)), START.plus(Duration.ofDays(9))});
                windows.add(new Instant[] {START.plusSeconds(600), START.plusSeconds(1500)}); // within an hour
                windows.add(new Instant[] {START.plusSeconds(3000), START.plusSeconds(4000)}); // across an hour
                windows.add(new Instant[] {START.plus(Duration.ofHours(5)), START.plus(Duration.ofHours(29))});
                windows.add(new Instant[] {START.plus(Duration.ofDays(1)), START.plus(Duration.ofDays(2))});
                windows.add(new Instant[] {START.plus(Duration.ofDays(2)), START.plus(Duration.ofDays(1))}); // empty
                for (int i = 0; i < 12; i++) {
                    Instant from = START.minusSeconds(3600).plusSeconds(random.nextInt(80 * 3600));
                    windows.add(new Instant[] {from, from.plusSeconds(1 + random.nextInt(60 * 3600))});
                }
                for (Instant[] w : windows) {
                    for (String[] scope : List.of(
                            new String[] {null, null},
                            new String[] {product, null},
                            new String[] {product, "r1"},
                            new String[] {null, "r2"})) {
                        List<BucketRow> top = BucketRepository.top(c, scope[0], scope[1], w[0], w[1], 50, 0);
                        List<Expected> expected = counted(c, scope[0], scope[1], w[0], w[1]);
                        String where = "window " + w[0] + " .. " + w[1] + " of " + scope[0] + "/" + scope[1];
                        assertThat(top).as(where).hasSameSizeAs(expected);
                        for (int i = 0; i < top.size(); i++) {
                            BucketRow got = top.get(i);
                            Expected want = expected.get(i);
                            assertThat(got.id()).as(where + " #" + i).isEqualTo(want.id());
                            assertThat(got.reports()).as(where).isEqualTo(want.reports());
                            assertThat(got.firstSeen()).as(where).isEqualTo(want.first());
                            assertThat(got.lastSeen()).as(where).isEqualTo(want.last());
                            assertThat(got.title()).as(where).isEqualTo("tally " + want.id());
                            // Reach is counted over the window's whole days, estimated, and never above the reports.
                            assertThat(got.hosts())
                                    .as(where + " hosts")
                                    .isBetween(
                                            Math.min(want.reports(), Math.round(want.hostsOfDays() * 0.92)),
                                            Math.min(want.reports(), Math.round(want.hostsOfDays() * 1.08) + 1));
                            assertThat(got.vms())
                                    .as(where + " vms")
                                    .isBetween(
                                            Math.min(want.reports(), Math.round(want.vmsOfDays() * 0.92)),
                                            Math.min(want.reports(), Math.round(want.vmsOfDays() * 1.08) + 1));
                        }
                    }
                }
                assertThat(BucketRepository.top(c, null, null, START, START.plus(SPREAD), 50, 0))
                        .as("the busiest bucket over all")
                        .first()
                        .satisfies(b -> {
                            assertThat(b.hosts()).isGreaterThan(100);
                            assertThat(b.vms()).isGreaterThan(b.hosts());
                        });

                // What a merge rebuilds is what filing kept.
                List<String> kept = rollUps(c, buckets);
                for (UUID b : buckets) {
                    BucketRepository.retally(c, b);
                }
                assertThat(rollUps(c, buckets)).isEqualTo(kept).hasSizeGreaterThan(buckets.size() * 4);
            } finally {
                c.rollback();
            }
        }
    }

    /** 2,500 reports over 80 hours into 8 buckets of skewed size, from 300 hosts and 1,200 VMs, in 3 releases. */
    private static List<UUID> file(Connection c, String product, Random random) throws SQLException {
        List<UUID> buckets = new ArrayList<>();
        String run = UUID.randomUUID().toString();
        for (int i = 0; i < 2500; i++) {
            int k = (int) Math.floor(8 * Math.pow(random.nextDouble(), 2));
            String key = "tally-" + run + "-" + k;
            Instant at = START.plusMillis((long) (random.nextDouble() * SPREAD.toMillis()));
            int vm = random.nextInt(1200);
            String release = "r" + (1 + random.nextInt(3));
            NewReport r = new NewReport(
                    "tally-" + run + "-" + i,
                    "tally " + BucketRepository.bucketId(key),
                    "instant-" + key,
                    key,
                    "hypervisor",
                    i % 50 == 0 ? null : product,
                    i % 50 == 0 ? null : release,
                    "vm-" + vm,
                    null,
                    "host-" + vm % 300,
                    "CRASH",
                    at,
                    true,
                    null,
                    "[]",
                    false);
            UUID bucket = BucketRepository.insertIfAbsent(
                            c, r, 1, new BucketRepository.SearchFacts(List.of(), null, null))
                    .bucket();
            BucketRepository.countInto(c, r, bucket);
            if (!buckets.contains(bucket)) {
                buckets.add(bucket);
            }
        }
        return buckets;
    }

    private record Expected(UUID id, long reports, Instant first, Instant last, long hostsOfDays, long vmsOfDays) {}

    /** The ranking by counting reports, with the exact distinct hosts and VMs of the window's whole UTC days. */
    private static List<Expected> counted(Connection c, String product, String release, Instant from, Instant to)
            throws SQLException {
        String filter = (product == null ? "" : " AND product = ?") + (release == null ? "" : " AND release = ?");
        try (PreparedStatement s = c.prepareStatement("SELECT w.bucket_id, w.n, w.f, w.l,"
                + " (SELECT count(DISTINCT host_id) FROM report d WHERE d.bucket_id = w.bucket_id"
                + " AND d.detected_at >= ? AND d.detected_at < ?" + filter + "),"
                + " (SELECT count(DISTINCT vm_uuid) FROM report d WHERE d.bucket_id = w.bucket_id"
                + " AND d.detected_at >= ? AND d.detected_at < ?" + filter + ")"
                + " FROM (SELECT bucket_id, count(*) n, min(detected_at) f, max(detected_at) l FROM report"
                + " WHERE detected_at >= ? AND detected_at < ?" + filter + " GROUP BY bucket_id) w"
                + " ORDER BY w.n DESC, w.l DESC, w.bucket_id LIMIT 50")) {
            Instant firstDay = from.truncatedTo(ChronoUnit.DAYS);
            Instant lastDay = to.truncatedTo(ChronoUnit.DAYS).equals(to)
                    ? to
                    : to.truncatedTo(ChronoUnit.DAYS).plus(1, ChronoUnit.DAYS);
            int n = 1;
            for (Instant[] range : List.of(
                    new Instant[] {firstDay, lastDay}, new Instant[] {firstDay, lastDay}, new Instant[] {from, to})) {
                s.setTimestamp(n++, Timestamp.from(range[0]));
                s.setTimestamp(n++, Timestamp.from(range[1]));
                if (product != null) {
                    s.setString(n++, product);
                }
                if (release != null) {
                    s.setString(n++, release);
                }
            }
            List<Expected> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(new Expected(
                            rs.getObject(1, UUID.class),
                            rs.getLong(2),
                            rs.getTimestamp(3).toInstant(),
                            rs.getTimestamp(4).toInstant(),
                            rs.getLong(5),
                            rs.getLong(6)));
                }
            }
            return rows;
        }
    }

    /** Every roll-up row of these buckets, as text, in a fixed order. */
    private static List<String> rollUps(Connection c, List<UUID> buckets) throws SQLException {
        List<String> rows = new ArrayList<>();
        for (String sql : List.of(
                "SELECT t.*::text FROM bucket_tally t WHERE bucket_id = ANY (?) ORDER BY 1",
                "SELECT t.*::text FROM release_tally t WHERE bucket_id = ANY (?) ORDER BY 1",
                "SELECT t.*::text FROM bucket_reach t WHERE bucket_id = ANY (?) ORDER BY 1",
                "SELECT t.*::text FROM release_reach t WHERE bucket_id = ANY (?) ORDER BY 1")) {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                s.setArray(1, c.createArrayOf("uuid", buckets.toArray()));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        rows.add(rs.getString(1));
                    }
                }
            }
        }
        return rows;
    }
}
