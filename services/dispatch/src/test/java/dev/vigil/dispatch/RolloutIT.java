package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.AgentFleet;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.dispatch.RolloutDecisionKind;
import dev.vigil.schemas.dispatch.RolloutEvent;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Staged rollouts on real release health: crash reports go through the packaged ingestion and crash triage services,
 * and VM-hours come from agent heartbeats in ingestion's uptime ledger. A release that crashes far more than the one
 * it replaces halts and rolls back; a healthy one goes through every stage and becomes what the channel offers.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
@QuarkusTestResource(TriageStack.class)
class RolloutIT {

    @TempDir
    Path dir;

    @Test
    void aRegressionHaltsTheRolloutAndAHealthyReleaseGoesThroughEveryStage() throws Exception {
        String product = Vendor.product();
        Vendor.publish(product, "1.0", Images.raw(dir, "1.0.raw", 1, 1 << 20));
        Vendor.publish(product, "1.1", Images.raw(dir, "1.1.raw", 2, 1 << 20));
        Vendor.publish(product, "1.2", Images.raw(dir, "1.2.raw", 3, 1 << 20));
        String program = Enrolments.program(product, "beta");
        List<String> hosts = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String host = "fleet-" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
            JsonPath redeemed = Enrolments.redeem(Enrolments.enrol(program, "User " + i), host);
            assertThat(redeemed.getString("release")).isEqualTo("1.0");
            hosts.add(host);
        }
        // Exposure from heartbeats, crashes through ingestion: 1.0 ran 50 VMs for 199 hours with 2 crashes; 1.1 and
        // 1.2 ran 10 VMs each for 200 hours, 1.1 with 10 crashes (25 times 1.0's rate), 1.2 with none.
        Instant hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
        Instant booted = hour.minus(Duration.ofHours(201));
        AgentFleet previous = new AgentFleet("acme", product, "1.0", 50)
                .start(booted)
                .awaitRunning(TriageStack.ingestionUrl, TriageStack.serviceToken, Duration.ofSeconds(60))
                .heartbeatsUntil(hour.minus(Duration.ofHours(2)));
        AgentFleet worse = new AgentFleet("acme", product, "1.1", 10)
                .start(booted)
                .awaitRunning(TriageStack.ingestionUrl, TriageStack.serviceToken, Duration.ofSeconds(60))
                .heartbeatsUntil(hour.minus(Duration.ofHours(1)));
        new AgentFleet("acme", product, "1.2", 10)
                .start(booted)
                .awaitRunning(TriageStack.ingestionUrl, TriageStack.serviceToken, Duration.ofSeconds(60))
                .heartbeatsUntil(hour.minus(Duration.ofHours(1)));
        // Crashes come after the heartbeats dated before them are in the ledger, as they would live: heartbeats and
        // crashes travel on different partitions, and a crash read first stops its VM's clock early.
        AgentFleet.awaitVmHours(
                TriageStack.ingestionUrl, TriageStack.serviceToken, product, "1.0", 9950, Duration.ofSeconds(90));
        AgentFleet.awaitVmHours(
                TriageStack.ingestionUrl, TriageStack.serviceToken, product, "1.1", 2000, Duration.ofSeconds(90));
        AgentFleet.awaitVmHours(
                TriageStack.ingestionUrl, TriageStack.serviceToken, product, "1.2", 2000, Duration.ofSeconds(90));
        previous.crash(2, hour.minus(Duration.ofHours(2)));
        worse.crash(10, hour.minus(Duration.ofHours(1)));
        await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    JsonPath h = health(product, "1.1", "1.0");
                    assertThat(h.getLong("reports")).as(h.prettify()).isEqualTo(10);
                    assertThat(h.getLong("previous.reports")).as(h.prettify()).isEqualTo(2);
                    assertThat(h.getDouble("vmHours")).as(h.prettify()).isEqualTo(2000.0);
                });
        JsonPath health = health(product, "1.1", "1.0");
        assertThat(health.getBoolean("comparison.significant")).isTrue();

        // The unpublished and the already offered cannot be rolled out.
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("product", product, "release", "1.0"))
                .post("/api/v1/rollouts")
                .then()
                .statusCode(409)
                .body("title", equalTo("Already offered"));

        JsonPath bad = start(product, "1.1", List.of(50, 100));
        String badId = bad.getString("id");
        assertThat(bad.getString("state")).isEqualTo("RUNNING");
        assertThat(bad.getString("previousRelease")).isEqualTo("1.0");

        JsonPath halted = awaitState(badId, "HALTED");
        assertThat(halted.getList("decisions.kind")).containsExactly("STARTED", "HALTED", "ROLLED_BACK");
        Map<String, Object> verdict = halted.getMap("decisions[1].health");
        assertThat(((Number) verdict.get("reports")).longValue()).isEqualTo(10);
        assertThat(((Number) verdict.get("previousReports")).longValue()).isEqualTo(2);
        assertThat(((Number) verdict.get("pValue")).doubleValue()).isLessThan(0.01);
        assertThat(halted.getString("decisions[1].reason")).contains("more than 1.50 times worse");
        assertThat(halted.getString("decisions[1].decidedBy")).isEqualTo("gate");
        Map<String, String> included = halted.getMap("hosts");
        assertThat(included).isNotEmpty().hasSizeLessThan(20);
        List<Map<String, Object>> rollbacks = Staff.analyst()
                .queryParam("rollout", badId)
                .queryParam("limit", "500")
                .get("/api/v1/commands")
                .then()
                .extract()
                .jsonPath()
                .getList("findAll { it.action == 'ROLL_BACK' }");
        assertThat(rollbacks).extracting(c -> c.get("hostId")).containsExactlyInAnyOrderElementsOf(included.keySet());
        assertThat(rollbacks)
                .allSatisfy(c -> assertThat(c.get("arguments"))
                        .isEqualTo(Map.of("product", product, "release", "1.0", "from", "1.1", "rolloutId", badId)));
        Staff.analyst().get("/api/v1/products/" + product).then().body("channels.beta", equalTo("1.0"));

        JsonPath good = start(product, "1.2", List.of(10, 50, 100));
        String goodId = good.getString("id");
        JsonPath completed = awaitState(goodId, "COMPLETED");
        assertThat(completed.getList("decisions.kind")).containsExactly("STARTED", "ADVANCED", "ADVANCED", "COMPLETED");
        assertThat(completed.getMap("hosts")).containsOnlyKeys(hosts);
        assertThat(completed.getString("decisions[3].reason")).startsWith("every stage passed");
        Staff.analyst().get("/api/v1/products/" + product).then().body("channels.beta", equalTo("1.2"));
        List<Map<String, Object>> updates = Staff.analyst()
                .queryParam("rollout", goodId)
                .queryParam("limit", "500")
                .get("/api/v1/commands")
                .then()
                .extract()
                .jsonPath()
                .getList("findAll { it.action == 'UPDATE' }");
        assertThat(updates)
                .hasSize(20)
                .allSatisfy(c -> assertThat(((Map<?, ?>) c.get("arguments")).get("release"))
                        .isEqualTo("1.2"));
        // A host that enrols now gets what the channel offers.
        assertThat(Enrolments.redeem(Enrolments.enrol(program, "Late user"), "late-" + UUID.randomUUID())
                        .getString("release"))
                .isEqualTo("1.2");

        // Every decision went out on the rollouts topic with its numbers.
        List<RolloutEvent> events = events(List.of(badId, goodId), 7);
        assertThat(events.stream().filter(e -> e.getRolloutId().equals(badId)).map(RolloutEvent::getKind))
                .containsExactly(
                        RolloutDecisionKind.STARTED, RolloutDecisionKind.HALTED, RolloutDecisionKind.ROLLED_BACK);
        assertThat(events)
                .filteredOn(e -> e.getKind() == RolloutDecisionKind.HALTED)
                .singleElement()
                .satisfies(e -> {
                    assertThat(e.getHealth().getReports()).isEqualTo(10);
                    assertThat(e.getHealth().getPValue()).isLessThan(0.01);
                    assertThat(e.getPreviousRelease()).isEqualTo("1.0");
                });
        assertThat(events.stream().filter(e -> e.getRolloutId().equals(goodId)).map(RolloutEvent::getKind))
                .containsExactly(
                        RolloutDecisionKind.STARTED,
                        RolloutDecisionKind.ADVANCED,
                        RolloutDecisionKind.ADVANCED,
                        RolloutDecisionKind.COMPLETED);
    }

    @Test
    void operatorsPauseResumeAndAbortAndAnUnsignedReleaseCannotBeRolledOut() throws Exception {
        String product = Vendor.product();
        Vendor.publish(product, "2.0", Images.raw(dir, "2.0.raw", 4, 1 << 20));
        Vendor.Upload unsigned = Vendor.upload(product, "2.1", "raw", Images.raw(dir, "2.1.raw", 5, 1 << 20));
        assertThat(unsigned.outcome().state()).isEqualTo("VERIFIED");
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("product", product, "release", "2.1"))
                .post("/api/v1/rollouts")
                .then()
                .statusCode(409)
                .body("title", equalTo("Release not published"))
                .body("detail", containsString("publish it first"));
        Staff.operator()
                .post("/api/v1/products/" + product + "/releases/2.1/publish")
                .then()
                .statusCode(200);
        // Nobody runs 2.1 yet: its gate waits for exposure, so the rollout stays at its first stage until paused.
        String id = start(product, "2.1", List.of(20, 100)).getString("id");
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("product", product, "release", "2.1"))
                .post("/api/v1/rollouts")
                .then()
                .statusCode(409)
                .body("title", equalTo("Rollout in progress"));
        Staff.analyst().post("/api/v1/rollouts/" + id + "/pause").then().statusCode(403);
        Staff.operator()
                .post("/api/v1/rollouts/" + id + "/pause")
                .then()
                .statusCode(200)
                .body("state", equalTo("PAUSED"));
        Staff.operator()
                .post("/api/v1/rollouts/" + id + "/pause")
                .then()
                .statusCode(409)
                .body("title", equalTo("Rollout is PAUSED"));
        Staff.operator().post("/api/v1/rollouts/" + id + "/resume").then().body("state", equalTo("RUNNING"));
        JsonPath aborted = Staff.operator()
                .post("/api/v1/rollouts/" + id + "/abort?rollback=true")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(aborted.getString("state")).isEqualTo("ABORTED");
        assertThat(aborted.getList("decisions.kind")).containsExactly("STARTED", "PAUSED", "RESUMED", "ABORTED");
        assertThat(aborted.getList("decisions.decidedBy")).containsOnly("otto@vendor.example");
        Staff.analyst().get("/api/v1/products/" + product).then().body("channels.beta", equalTo("2.0"));
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("product", product, "release", "2.1", "stages", List.of(10, 5)))
                .post("/api/v1/rollouts")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad stages"));
        Staff.analyst().get("/api/v1/rollouts/" + UUID.randomUUID()).then().statusCode(404);
    }

    private static JsonPath start(String product, String release, List<Integer> stages) {
        return Staff.operator()
                .contentType("application/json")
                .body(Map.of(
                        "product",
                        product,
                        "release",
                        release,
                        "stages",
                        stages,
                        "minVmHours",
                        100,
                        "minStageDuration",
                        "PT0S",
                        "rollbackOnHalt",
                        true))
                .post("/api/v1/rollouts")
                .then()
                .statusCode(201)
                .extract()
                .jsonPath();
    }

    private static JsonPath awaitState(String id, String state) {
        return await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .until(
                        () -> Staff.analyst()
                                .get("/api/v1/rollouts/" + id)
                                .then()
                                .statusCode(200)
                                .extract()
                                .jsonPath(),
                        j -> state.equals(j.getString("state")));
    }

    private static JsonPath health(String product, String release, String previous) {
        return given().auth()
                .oauth2(TriageStack.serviceToken)
                .queryParam("product", product)
                .queryParam("release", release)
                .queryParam("previous", previous)
                .get(TriageStack.triageUrl + "/api/v1/releases/health")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    private static List<RolloutEvent> events(List<String> rollouts, int expected) {
        return Topics.read(TopicCatalog.DISPATCH_ROLLOUTS, r -> rollouts.contains(r.key()), expected).stream()
                .map(r -> EventCodec.of(RolloutEvent.class).decode(r.value()))
                .toList();
    }
}
