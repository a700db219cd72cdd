package dev.vigil.triage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.IncidentTrigger;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * A crash is filed on the hypervisor's event alone, then refined by its evidence: the provisional report counts at
 * once in the bucket of what the hypervisor saw, and its refinement moves it to the bucket of its evidence, where it
 * still counts once, in the roll-ups of whole days as well as in the reports.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class ProvisionalFilingIT {

    private static final String PANIC = "kernel panic: sysrq triggered crash";

    @Test
    void aProvisionalReportCountsAtOnceAndItsEvidenceMovesItWithoutCountingTwice() throws Exception {
        String release = "rel-" + UUID.randomUUID();
        // A product of its own: the bucket of what the hypervisor saw is per product, and must hold only these.
        String product = "ProvOS-" + UUID.randomUUID().toString().substring(0, 8);
        // Two days ago, so that the ranking below sums whole days' roll-ups: stale ones would show.
        Instant at = Instant.now()
                .truncatedTo(ChronoUnit.DAYS)
                .minus(2, ChronoUnit.DAYS)
                .plus(13, ChronoUnit.HOURS);
        String vmA = UUID.randomUUID().toString();
        String vmB = UUID.randomUUID().toString();
        CrashReported a = CrashFixtures.provisional(release, product, at, vmA, "host-1");
        CrashReported b = CrashFixtures.provisional(release, product, at.plusSeconds(60), vmB, "host-2");
        CrashFixtures.send(a, b);

        JsonPath early = awaitTop(release, p -> reports(p) == 2);
        assertThat(early.getList("items")).hasSize(1);
        String coarse = early.getString("items[0].id");
        assertThat(early.getString("items[0].title")).isEqualTo("crash with no readable evidence (" + product + ")");
        assertThat(early.getInt("items[0].vms")).isEqualTo(2);
        JsonPath waiting = AnalystApi.detail(coarse);
        assertThat(waiting.getList("latest.provisional", Boolean.class)).containsOnly(true);
        assertThat(waiting.getList("latest.complete", Boolean.class)).containsOnly(false);

        // A's evidence: it moves to the bucket its console signs to; B still waits where it was.
        ArtifactRef console = CrashFixtures.console(LinuxConsoleParserTest.SYSRQ_PANIC);
        CrashFixtures.send(refined(a, console));
        JsonPath split = awaitTop(release, p -> p.getList("items").size() == 2);
        assertThat(counts(split)).containsExactlyInAnyOrderEntriesOf(Map.of(PANIC, 1, title(early), 1));
        String panic = idOf(split, PANIC);
        // (That bucket holds other tests' reports of the same panic too.)
        Map<String, Object> moved = reportOf(panic, a);
        assertThat(moved.get("provisional")).isEqualTo(false);
        assertThat(moved.get("complete")).isEqualTo(true);
        assertThat(moved.get("evidence")).isEqualTo("linux-console");
        assertThat(moved.get("release")).isEqualTo(release);

        // B's evidence too; then A's provisional report again (a redelivery after its refinement) and a marker
        // report behind it on A's partition: the redelivery changes nothing.
        CrashFixtures.send(refined(b, console));
        CrashReported marker = CrashFixtures.report(
                release, product, at.plusSeconds(120), vmA, "host-1", IncidentTrigger.HANG, List.of());
        CrashFixtures.send(a, marker);
        JsonPath done =
                awaitTop(release, p -> reports(p) == 3 && p.getList("items").size() == 2);
        assertThat(counts(done))
                .containsExactlyInAnyOrderEntriesOf(
                        Map.of(PANIC, 2, "hang with no readable evidence (" + product + ")", 1));
        assertThat(done.getList("items.id")).doesNotContain(coarse);
        assertThat(done.getInt("items.find { it.title == '" + PANIC + "' }.vms"))
                .isEqualTo(2);
        assertThat(done.getInt("items.find { it.title == '" + PANIC + "' }.hosts"))
                .isEqualTo(2);
        JsonPath emptied = AnalystApi.detail(coarse);
        assertThat(emptied.getInt("reports")).isZero();
        assertThat(emptied.getList("latest")).isEmpty();
        assertThat(reportOf(panic, b).get("provisional")).isEqualTo(false);
    }

    /** The incident's report as a bucket's page shows it. */
    private static Map<String, Object> reportOf(String bucket, CrashReported incident) {
        return AnalystApi.detail(bucket).getMap("latest.find { it.incidentId == '" + incident.getIncidentId() + "' }");
    }

    /** The incident's report with its evidence, as ingestion sends it after the provisional one. */
    private static CrashReported refined(CrashReported provisional, ArtifactRef console) {
        return CrashFixtures.report(
                provisional.getRelease().toString(),
                provisional.getProduct().toString(),
                provisional.getDetectedAt(),
                provisional.getVm().getUuid().toString(),
                provisional.getHostId().toString(),
                IncidentTrigger.CRASH,
                List.of(console),
                provisional.getIncidentId().toString());
    }

    /** The release's top buckets over whole UTC days (answered from day roll-ups) once {@code done} holds. */
    private static JsonPath awaitTop(String release, Predicate<JsonPath> done) {
        String from = Instant.now()
                .truncatedTo(ChronoUnit.DAYS)
                .minus(5, ChronoUnit.DAYS)
                .toString();
        String to = Instant.now()
                .truncatedTo(ChronoUnit.DAYS)
                .plus(1, ChronoUnit.DAYS)
                .toString();
        return await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> Tokens.analyst()
                                .queryParam("release", release)
                                .queryParam("from", from)
                                .queryParam("to", to)
                                .get("/api/v1/buckets")
                                .then()
                                .statusCode(200)
                                .extract()
                                .jsonPath(),
                        done);
    }

    private static int reports(JsonPath page) {
        return AnalystApi.reportsOnPage(page);
    }

    private static String title(JsonPath page) {
        return page.getString("items[0].title");
    }

    private static Map<String, Integer> counts(JsonPath page) {
        Map<String, Integer> counts = new java.util.HashMap<>();
        List<String> titles = page.getList("items.title", String.class);
        List<Integer> reports = page.getList("items.reports", Integer.class);
        for (int i = 0; i < titles.size(); i++) {
            counts.put(titles.get(i), reports.get(i));
        }
        return counts;
    }

    private static String idOf(JsonPath page, String title) {
        return page.getString("items.find { it.title == '" + title + "' }.id");
    }
}
