package dev.vigil.triage.regression;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.IncidentTrigger;
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
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code GET /api/v1/releases/health} on the devstack, with VM-hours from the packaged ingestion service's uptime
 * ledger fed with agent heartbeats, and crash reports filed by triage. One product with four releases in the order
 * of their first reports: 1.0 (1,000 VM-hours, 4 reports in the window and 4 around it), 1.1 (1,000 VM-hours, 40
 * reports of a bucket new in it: ten times 1.0's rate), 1.2 (1,000 VM-hours, 40 reports: 1.1's rate) and 1.3 (5
 * reports, no VM-hours). Shares the Quarkus app and ingestion process of {@link RegressionIT} (same resources).
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
@WithTestResource(
        value = IngestionProcess.class,
        scope = TestResourceScope.MATCHING_RESOURCES,
        initArgs = @ResourceArg(name = "triage.vigil.triage.regression.sweep-every", value = "1s"))
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReleaseHealthIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TEST = "one-sided exact conditional binomial test of two Poisson counts";

    private final String product = "Prod-" + UUID.randomUUID();
    private final String tag =
            "h" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final Instant now = Instant.now();
    private final LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
    /** The window most questions ask about: it leaves out 1.0's reports on either side of it. */
    private final Map<String, String> window = Map.of(
            "from", today.minusDays(10).toString(), "to", today.minusDays(1).toString());

    private boolean ready;

    // Once, before the first test rather than in @BeforeAll: RestAssured knows the app's port only from then.
    @BeforeEach
    void fleetAndCrashes() throws Exception {
        if (ready) {
            return;
        }
        // 10 VMs per release with exposure, up for 100 hours inside the window: 1,000 VM-hours each.
        Instant booted = today.minusDays(6).atStartOfDay(ZoneOffset.UTC).toInstant();
        for (String release : List.of("1.0", "1.1", "1.2")) {
            new AgentFleet(product, release, 10).start(booted).heartbeatsUntil(booted.plus(Duration.ofHours(100)));
        }
        for (String release : List.of("1.0", "1.1", "1.2")) {
            AgentFleet.awaitVmHours(product, release, 1_000);
        }
        ArtifactRef steady = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "steady"));
        ArtifactRef worse = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "worse"));

        // Each release's reports are filed before the next one's, so every release's previous one is known when
        // its reports are judged.
        Instant windowStart = today.minusDays(10).atStartOfDay(ZoneOffset.UTC).toInstant();
        List<CrashReported> v10 = new ArrayList<>();
        v10.add(report("1.0", noon(20), steady));
        v10.add(report("1.0", noon(20).plusSeconds(1), steady));
        v10.add(report("1.0", windowStart.minusMillis(1), steady));
        v10.add(report("1.0", windowStart, steady));
        for (int i = 0; i < 3; i++) {
            v10.add(report("1.0", noon(5).plusSeconds(i), steady));
        }
        v10.add(report("1.0", today.atStartOfDay(ZoneOffset.UTC).toInstant(), steady));
        sendAndAwait("1.0", v10);
        sendAndAwait("1.1", reports("1.1", 40, noon(3), worse));
        sendAndAwait("1.2", reports("1.2", 40, noon(2), worse));
        sendAndAwait("1.3", reports("1.3", 5, noon(1), steady));
        ready = true;
    }

    @Test
    void aReleaseFarWorseThanItsPreviousOneIsSignificantWithItsNewBucketListed() throws Exception {
        JsonNode health = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> health("1.1", window), h -> !h.get("regressions").isEmpty());

        assertThat(health.get("product").asText()).isEqualTo(product);
        assertThat(health.get("release").asText()).isEqualTo("1.1");
        assertThat(health.get("from").asText()).isEqualTo(today.minusDays(10).toString());
        assertThat(health.get("to").asText()).isEqualTo(today.minusDays(1).toString());
        assertThat(health.get("reports").asLong()).isEqualTo(40);
        assertThat(health.get("vmHours").asDouble()).isEqualTo(1000.0);
        assertThat(health.get("ratePer1000VmHours").asDouble()).isCloseTo(40.0, within(1e-9));
        // The previous release by default is triage's: the one whose first report came last before 1.1's.
        JsonNode previous = health.get("previous");
        assertThat(previous.get("release").asText()).isEqualTo("1.0");
        assertThat(previous.get("reports").asLong()).isEqualTo(4);
        assertThat(previous.get("vmHours").asDouble()).isEqualTo(1000.0);
        assertThat(previous.get("ratePer1000VmHours").asDouble()).isCloseTo(4.0, within(1e-9));
        JsonNode comparison = health.get("comparison");
        assertThat(comparison.get("test").asText()).isEqualTo(TEST);
        assertThat(comparison.get("minRateRatio").asDouble()).isEqualTo(1.5);
        assertThat(comparison.get("significance").asDouble()).isEqualTo(0.01);
        assertThat(comparison.get("ratio").asDouble()).isCloseTo(10.0, within(1e-9));
        double expected = RateComparison.compare(40, 1000, 4, 1000, 1.5, 0.01).pValue();
        assertThat(comparison.get("pValue").asDouble()).isLessThan(0.01).isCloseTo(expected, within(expected * 1e-9));
        assertThat(comparison.get("significant").asBoolean()).isTrue();

        String worseId = Tokens.analyst()
                .queryParam("product", product)
                .queryParam("release", "1.1")
                .queryParam("from", now.minus(Duration.ofDays(30)).toString())
                .get("/api/v1/buckets")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getString("items[0].id");
        assertThat(health.get("regressions")).singleElement().satisfies(r -> {
            assertThat(r.get("bucketId").asText()).isEqualTo(worseId);
            assertThat(r.get("kind").asText()).isEqualTo("NEW_IN_RELEASE");
            assertThat(r.get("title").asText()).isEqualTo("general protection fault in " + tag + "worse_list_del");
            assertThat(r.get("previousRelease").asText()).isEqualTo("1.0");
            assertThat(Instant.parse(r.get("detectedAt").asText())).isAfter(now);
        });
        assertThat(health.get("regressionsTruncated").asBoolean()).isFalse();
    }

    @Test
    void aReleaseAsBadAsItsPreviousOneIsNotSignificant() throws Exception {
        JsonNode health = health("1.2", window);

        assertThat(health.get("reports").asLong()).isEqualTo(40);
        assertThat(health.get("ratePer1000VmHours").asDouble()).isCloseTo(40.0, within(1e-9));
        assertThat(health.get("previous").get("release").asText()).isEqualTo("1.1");
        assertThat(health.get("previous").get("reports").asLong()).isEqualTo(40);
        assertThat(health.get("previous").get("ratePer1000VmHours").asDouble()).isCloseTo(40.0, within(1e-9));
        JsonNode comparison = health.get("comparison");
        assertThat(comparison.get("ratio").asDouble()).isCloseTo(1.0, within(1e-9));
        assertThat(comparison.get("pValue").asDouble()).isGreaterThan(0.5);
        assertThat(comparison.get("significant").asBoolean()).isFalse();
        // The bucket had reports in 1.1 already, at the same rate: no verdict.
        assertThat(health.get("regressions")).isEmpty();
    }

    @Test
    void theCallerNamesThePreviousReleaseAndTheTestsRatioAndLevel() throws Exception {
        JsonNode against10 = health("1.2", with(window, "previous", "1.0"));
        assertThat(against10.get("previous").get("release").asText()).isEqualTo("1.0");
        assertThat(against10.get("previous").get("reports").asLong()).isEqualTo(4);
        assertThat(against10.get("comparison").get("significant").asBoolean()).isTrue();

        // Ten times the rate is not significantly more than twenty times.
        JsonNode strict = health(
                "1.2", with(with(with(window, "previous", "1.0"), "minRateRatio", "20"), "significance", "0.05"));
        JsonNode comparison = strict.get("comparison");
        assertThat(comparison.get("minRateRatio").asDouble()).isEqualTo(20.0);
        assertThat(comparison.get("significance").asDouble()).isEqualTo(0.05);
        assertThat(comparison.get("ratio").asDouble()).isCloseTo(10.0, within(1e-9));
        double expected = RateComparison.compare(40, 1000, 4, 1000, 20, 0.05).pValue();
        assertThat(comparison.get("pValue").asDouble()).isCloseTo(expected, within(expected * 1e-9));
        assertThat(comparison.get("significant").asBoolean()).isFalse();
    }

    @Test
    void aPreviousReleaseWithoutReportsInTheWindowGivesATestButNoRatio() throws Exception {
        // [today-4, today-1]: no report of 1.0, and 52 of each VM's 100 hours (two whole days and 4 hours of
        // today-2) for 1.0 and 1.1 alike: 520 VM-hours.
        JsonNode health = health(
                "1.1",
                Map.of(
                        "from",
                        today.minusDays(4).toString(),
                        "to",
                        today.minusDays(1).toString()));

        assertThat(health.get("reports").asLong()).isEqualTo(40);
        assertThat(health.get("vmHours").asDouble()).isEqualTo(520.0);
        assertThat(health.get("previous").get("reports").asLong()).isEqualTo(0);
        assertThat(health.get("previous").get("vmHours").asDouble()).isEqualTo(520.0);
        assertThat(health.get("previous").get("ratePer1000VmHours").asDouble()).isEqualTo(0.0);
        JsonNode comparison = health.get("comparison");
        assertThat(comparison.has("ratio")).isTrue();
        assertThat(comparison.get("ratio").isNull()).isTrue();
        double expected = RateComparison.compare(40, 520, 0, 520, 1.5, 0.01).pValue();
        assertThat(comparison.get("pValue").asDouble()).isCloseTo(expected, within(expected * 1e-9));
        assertThat(comparison.get("significant").asBoolean()).isTrue();
    }

    @Test
    void theWindowCountsWholeUtcDaysAndDefaultsToTheLast30() throws Exception {
        // [today-10 00:00Z, today 00:00Z): the report a millisecond before and the one at today's midnight are out.
        JsonNode narrow = health("1.0", window);
        assertThat(narrow.get("reports").asLong()).isEqualTo(4);
        assertThat(narrow.get("vmHours").asDouble()).isEqualTo(1000.0);

        JsonNode last30 = health("1.0", Map.of());
        assertThat(last30.get("from").asText()).isEqualTo(today.minusDays(29).toString());
        assertThat(last30.get("to").asText()).isEqualTo(today.toString());
        assertThat(last30.get("reports").asLong()).isEqualTo(8);
        assertThat(last30.get("ratePer1000VmHours").asDouble()).isCloseTo(8.0, within(1e-9));

        // Before the fleet booted there is no exposure, and no rate.
        JsonNode early = health(
                "1.0",
                Map.of(
                        "from",
                        today.minusDays(20).toString(),
                        "to",
                        today.minusDays(11).toString()));
        assertThat(early.get("reports").asLong()).isEqualTo(3);
        assertThat(early.get("vmHours").asDouble()).isEqualTo(0.0);
        assertThat(early.get("ratePer1000VmHours").isNull()).isTrue();
        // A product's first release has nothing to compare with.
        assertThat(early.get("previous").isNull()).isTrue();
        assertThat(early.get("comparison").isNull()).isTrue();
    }

    @Test
    void aReleaseWithoutExposureHasNoRateAndNoComparison() throws Exception {
        JsonNode health = health("1.3", window);

        assertThat(health.get("reports").asLong()).isEqualTo(5);
        assertThat(health.get("vmHours").asDouble()).isEqualTo(0.0);
        assertThat(health.has("ratePer1000VmHours")).isTrue();
        assertThat(health.get("ratePer1000VmHours").isNull()).isTrue();
        assertThat(health.get("previous").get("release").asText()).isEqualTo("1.2");
        assertThat(health.get("previous").get("ratePer1000VmHours").asDouble()).isCloseTo(40.0, within(1e-9));
        assertThat(health.has("comparison")).isTrue();
        assertThat(health.get("comparison").isNull()).isTrue();
    }

    @Test
    void badParametersAre400ProblemsThatSayWhatIsWrong() {
        Map<String, String> ok = Map.of("product", product, "release", "1.1");
        assertProblem(Map.of("release", "1.1"), "Bad product or release", "product is required");
        assertProblem(with(ok, "release", " "), "Bad product or release", "release is required");
        assertProblem(with(ok, "release", "r".repeat(201)), "Bad product or release", "at most 200");
        assertProblem(with(ok, "previous", "1.1"), "Bad product or release", "another release");
        assertProblem(with(ok, "from", "2026-02-30"), "Bad window", "from must be a UTC day");
        assertProblem(with(ok, "to", "yesterday"), "Bad window", "to must be a UTC day");
        assertProblem(with(with(ok, "from", "2026-03-02"), "to", "2026-03-01"), "Bad window", "is after to");
        assertProblem(with(with(ok, "from", "2025-01-01"), "to", "2026-01-02"), "Bad window", "got 367");
        assertProblem(with(ok, "minRateRatio", "0.9"), "Bad rate test", "at least 1");
        assertProblem(with(ok, "minRateRatio", "Infinity"), "Bad rate test", "minRateRatio must be a number");
        assertProblem(with(ok, "significance", "1"), "Bad rate test", "between 0 and 1");
        assertProblem(with(ok, "significance", "0"), "Bad rate test", "between 0 and 1");
        assertProblem(with(ok, "significance", "x"), "Bad rate test", "significance must be a number");
        // A year and a day, both ends included, is the most the uptime ledger answers.
        request(Tokens.analyst(), with(with(ok, "from", "2025-01-01"), "to", "2026-01-01"))
                .then()
                .statusCode(200);
    }

    @Test
    void withoutATokenIs401AndWithoutAnAnalystOrAdminRoleIs403() {
        Map<String, String> ok = Map.of("product", product, "release", "1.1");
        JsonNode unauthenticated = body(request(given(), ok), 401);
        assertThat(unauthenticated.get("title").asText()).isEqualTo("Not authenticated");
        JsonNode forbidden = body(request(given().auth().oauth2(Tokens.token("olga", "operator")), ok), 403);
        assertThat(forbidden.get("status").asInt()).isEqualTo(403);
        assertThat(forbidden.get("title").asText()).isEqualTo("Not allowed");
        body(request(Tokens.admin(), ok), 200);
    }

    private JsonNode health(String release, Map<String, String> params) throws Exception {
        return body(request(Tokens.analyst(), with(with(params, "product", product), "release", release)), 200);
    }

    private static void assertProblem(Map<String, String> params, String title, String detail) {
        JsonNode problem = body(request(Tokens.analyst(), params), 400);
        assertThat(problem.get("status").asInt()).as(params.toString()).isEqualTo(400);
        assertThat(problem.get("title").asText()).as(params.toString()).isEqualTo(title);
        assertThat(problem.get("detail").asText()).as(params.toString()).contains(detail);
    }

    private static Response request(RequestSpecification as, Map<String, String> params) {
        return as.queryParams(params).get("/api/v1/releases/health");
    }

    private static JsonNode body(Response response, int status) {
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(status);
        try {
            return JSON.readTree(response.asString());
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + response.asString(), e);
        }
    }

    private static Map<String, String> with(Map<String, String> params, String key, String value) {
        Map<String, String> more = new java.util.HashMap<>(params);
        more.put(key, value);
        return more;
    }

    private void sendAndAwait(String release, List<CrashReported> reports) {
        CrashFixtures.send(reports.toArray(CrashReported[]::new));
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> health(release, Map.of()).get("reports").asLong() == reports.size());
    }

    /** Noon (UTC) {@code days} days ago: whole seconds either side stay on that day. */
    private Instant noon(int days) {
        return today.minusDays(days).atTime(12, 0).toInstant(ZoneOffset.UTC);
    }

    private List<CrashReported> reports(String release, int count, Instant at, ArtifactRef console) {
        List<CrashReported> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(report(release, at.plusSeconds(i), console));
        }
        return list;
    }

    private CrashReported report(String release, Instant at, ArtifactRef console) {
        return CrashFixtures.report(
                release, product, at, UUID.randomUUID().toString(), "host-1", IncidentTrigger.CRASH, List.of(console));
    }
}
