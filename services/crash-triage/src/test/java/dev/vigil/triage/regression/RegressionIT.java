package dev.vigil.triage.regression;

import static dev.vigil.triage.api.AnalystApi.detail;
import static dev.vigil.triage.api.AnalystApi.reportsOnPage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.IncidentTrigger;
import dev.vigil.schemas.crash.TriageKind;
import dev.vigil.triage.api.CrashFixtures;
import dev.vigil.triage.api.JwtKeys;
import dev.vigil.triage.api.Tokens;
import dev.vigil.triage.e2e.IngestionProcess;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.path.json.config.JsonPathConfig;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Regressions judged from real reports on the devstack, with VM-hours from the packaged ingestion service's uptime
 * ledger, fed with agent lifecycle events and heartbeats dated in the past. The sweep runs every second.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
// Matching resources, not restricted to this class: ReleaseHealthIT declares the same and shares the app and
// the ingestion process.
@WithTestResource(
        value = IngestionProcess.class,
        scope = TestResourceScope.MATCHING_RESOURCES,
        initArgs = @ResourceArg(name = "triage.vigil.triage.regression.sweep-every", value = "1s"))
class RegressionIT {

    /** Rates are compared to 1e-9: read numbers as doubles, not as RestAssured's default floats. */
    private static final JsonPathConfig DOUBLES = new JsonPathConfig(JsonPathConfig.NumberReturnType.DOUBLE);

    @Test
    void aBucketWithNoReportInEarlierReleasesIsANewRegressionAnnouncedOnce() throws Exception {
        String product = "Prod-" + UUID.randomUUID();
        String tag = "r" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        ArtifactRef old = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "old"));
        ArtifactRef fresh = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "new"));
        Instant now = Instant.now();
        CrashFixtures.send(report(product, "1.0", now.minus(Duration.ofDays(3)), old));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> top(product, "1.0").getList("items").size() == 1);
        CrashReported first = report(product, "1.1", now.minus(Duration.ofDays(1)), fresh);
        CrashFixtures.send(first, report(product, "1.1", now.minus(Duration.ofDays(1)), old));

        JsonPath page = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> top(product, "1.1"),
                        p -> p.getList("items").size() == 2
                                && p.getString("items.find { it.title.endsWith('" + tag
                                                + "new_list_del') }.regression.kind")
                                        != null);
        String newId = page.getString("items.find { it.title.endsWith('" + tag + "new_list_del') }.id");
        String oldId = page.getString("items.find { it.title.endsWith('" + tag + "old_list_del') }.id");
        Map<String, Object> verdict = page.getMap("items.find { it.id == '" + newId + "' }.regression");
        assertThat(verdict)
                .containsEntry("kind", "NEW_IN_RELEASE")
                .containsEntry("previousRelease", "1.0")
                .containsEntry("release", "1.1")
                .containsEntry("reports", 1);
        assertThat(page.getMap("items.find { it.id == '" + oldId + "' }.regression"))
                .isNull();
        // Nothing regresses in a product's first release: there is nothing to compare with.
        assertThat(top(product, "1.0").getMap("items[0].regression")).isNull();

        // Redelivered and more reports of the same bucket, and sweeps every second: still one verdict, one event.
        CrashFixtures.send(first, report(product, "1.1", now, fresh));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> top(product, "1.1").getInt("items.find { it.id == '" + newId + "' }.reports") == 2);
        List<CrashTriaged> events = CrashFixtures.triaged(
                newId,
                found -> found.stream().anyMatch(t -> t.getKind() == TriageKind.REGRESSION),
                Duration.ofSeconds(3));
        assertThat(events.stream().filter(t -> t.getKind() == TriageKind.REGRESSION))
                .singleElement()
                .satisfies(t -> {
                    assertThat(t.getProduct().toString()).isEqualTo(product);
                    assertThat(t.getRelease().toString()).isEqualTo("1.1");
                    assertThat(t.getReportCount()).isEqualTo(1L);
                    assertThat(t.getTitle().toString()).endsWith(tag + "new_list_del");
                });
        assertThat(detail(newId).getList("regressions.kind")).containsExactly("NEW_IN_RELEASE");
        assertThat(CrashFixtures.triaged(oldId, found -> true, Duration.ofSeconds(1)).stream()
                        .filter(t -> t.getKind() == TriageKind.REGRESSION))
                .isEmpty();
    }

    @Test
    void aRateSignificantlyUpIsARegressionOnlyOnceTheReleaseHasEnoughExposure() throws Exception {
        String product = "Prod-" + UUID.randomUUID();
        String tag = "q" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        ArtifactRef worse = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "worse"));
        ArtifactRef steady = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "steady"));
        // 50 VMs of 2.0 and 10 of 2.1 started 200 hours ago; 2.0's host has reported since, 2.1's for 50 hours.
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        Instant booted = hour.minus(Duration.ofHours(200));
        new AgentFleet(product, "2.0", 50).start(booted).heartbeatsUntil(hour);
        AgentFleet fleet21 =
                new AgentFleet(product, "2.1", 10).start(booted).heartbeatsUntil(booted.plus(Duration.ofHours(50)));
        AgentFleet.awaitVmHours(product, "2.0", 10_000);
        AgentFleet.awaitVmHours(product, "2.1", 500);
        Instant before = Instant.now().minus(Duration.ofDays(3));
        Instant after = Instant.now().minus(Duration.ofDays(1));
        List<CrashReported> reports = new ArrayList<>();
        // 2.0: 2 crashes of one bucket and 10 of another over 10,000 VM-hours.
        for (int i = 0; i < 2; i++) {
            reports.add(report(product, "2.0", before.plusSeconds(i), worse));
        }
        for (int i = 0; i < 10; i++) {
            reports.add(report(product, "2.0", before.plusSeconds(i), steady));
        }
        CrashFixtures.send(reports.toArray(CrashReported[]::new));
        await().atMost(Duration.ofSeconds(30)).until(() -> reportsOnPage(top(product, "2.0")) == 12);
        // 2.1: 12 and 2 crashes over (so far) 500 VM-hours: far worse for the first, the same for the second.
        reports.clear();
        for (int i = 0; i < 12; i++) {
            reports.add(report(product, "2.1", after.plusSeconds(i), worse));
        }
        for (int i = 0; i < 2; i++) {
            reports.add(report(product, "2.1", after.plusSeconds(i), steady));
        }
        CrashFixtures.send(reports.toArray(CrashReported[]::new));
        await().atMost(Duration.ofSeconds(30)).until(() -> reportsOnPage(top(product, "2.1")) == 14);

        // Below 1,000 VM-hours no rate is judged, however bad it looks; several sweeps pass.
        await().during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(5))
                .until(() ->
                        top(product, "2.1").getList("items.regression").stream().allMatch(r -> r == null));

        // Exposure grows without new crashes (2.1's host reports the other 150 hours): the sweep judges again. It
        // sees the ledger grow while ingestion takes the heartbeats in, so the verdict carries the exposure of the
        // first sweep at or past 1,000 VM-hours, whatever it was between there and 2,000.
        fleet21.heartbeatsUntil(hour);
        AgentFleet.awaitVmHours(product, "2.1", 2_000);
        JsonPath page = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> top(product, "2.1"),
                        p -> p.getString(
                                        "items.find { it.title.endsWith('" + tag + "worse_list_del') }.regression.kind")
                                != null);
        String worseId = page.getString("items.find { it.title.endsWith('" + tag + "worse_list_del') }.id");
        String steadyId = page.getString("items.find { it.title.endsWith('" + tag + "steady_list_del') }.id");
        JsonPath verdict = new JsonPath(page.prettify())
                .using(DOUBLES)
                .setRootPath("items.find { it.id == '" + worseId + "' }.regression");
        assertThat(verdict.getString("kind")).isEqualTo("RATE_INCREASE");
        assertThat(verdict.getString("previousRelease")).isEqualTo("2.0");
        assertThat(verdict.getLong("reports")).isEqualTo(12);
        assertThat(verdict.getLong("previousReports")).isEqualTo(2);
        double judgedAt = verdict.getDouble("vmHours");
        assertThat(judgedAt).isBetween(1000.0, 2000.0);
        double rate = 12 * 1000.0 / judgedAt; // 6 per 1,000 VM-hours at 2,000, 12 at 1,000
        assertThat(verdict.getDouble("previousVmHours")).isEqualTo(10000.0);
        assertThat(verdict.getDouble("ratePer1000VmHours")).isCloseTo(rate, within(1e-9));
        assertThat(verdict.getDouble("previousRatePer1000VmHours")).isEqualTo(0.2);
        assertThat(verdict.getDouble("pValue")).isLessThan(0.01);

        List<CrashTriaged> events = CrashFixtures.triaged(
                worseId,
                found -> found.stream().anyMatch(t -> t.getKind() == TriageKind.REGRESSION),
                Duration.ofSeconds(2));
        assertThat(events.stream().filter(t -> t.getKind() == TriageKind.REGRESSION))
                .singleElement()
                .satisfies(t -> {
                    assertThat(t.getRatePer1000VmHours()).isCloseTo(rate, within(1e-9));
                    assertThat(t.getPreviousReleaseRate()).isEqualTo(0.2);
                    assertThat(t.getReportCount()).isEqualTo(12L);
                });
        // The same rate in both releases (1 per 1,000 VM-hours) is no regression.
        assertThat(top(product, "2.1").getMap("items.find { it.id == '" + steadyId + "' }.regression"))
                .isNull();
    }

    private static CrashReported report(String product, String release, Instant at, ArtifactRef console) {
        return CrashFixtures.report(
                release, product, at, UUID.randomUUID().toString(), "host-1", IncidentTrigger.CRASH, List.of(console));
    }

    private static JsonPath top(String product, String release) {
        return Tokens.analyst()
                .queryParam("product", product)
                .queryParam("release", release)
                .queryParam("from", Instant.now().minus(Duration.ofDays(30)).toString())
                .get("/api/v1/buckets")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath(DOUBLES);
    }
}
