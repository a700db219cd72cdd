package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.StaffTokenResource;
import dev.vigil.schemas.agent.LifecycleState;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** VM-hours per release per day, from lifecycle events and heartbeats, through the fleet API. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
class UptimeIT {

    private final Endpoints endpoints = Devstack.shared().endpoints();
    private final String release = "uptime-" + UUID.randomUUID().toString().substring(0, 8);
    private final LocalDate dayOne = LocalDate.now(ZoneOffset.UTC).minusDays(2);
    private final Instant lateOnDayOne = dayOne.atTime(23, 0).toInstant(ZoneOffset.UTC);

    @Test
    void aVmRunningAcrossMidnightWithHeartbeatsIsCreditedAnHourOnEachDay() throws Exception {
        String vm = UUID.randomUUID().toString();
        String host = "uptime-host-" + UUID.randomUUID();
        try (AgentTraffic agent = new AgentTraffic(endpoints, host, AgentTraffic.vm(vm, "AcmeOS", release))) {
            agent.send(agent.lifecycle(LifecycleState.STARTED, "BOOTED", lateOnDayOne));
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> Staff.analyst()
                            .get("/api/v1/vms/{id}", vm)
                            .then()
                            .statusCode(200)
                            .body("running", equalTo(true))
                            .body("release", equalTo(release)));
            // Heartbeats share one partition (the host's key), so they are taken in order.
            for (int i = 1; i <= 29; i++) {
                agent.send(agent.heartbeat(lateOnDayOne.plus(Duration.ofMinutes(4L * i))));
            }
            // Every heartbeat so far is counted: 60 minutes on day one, 56 on day two.
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() ->
                            assertThat(minutes(dayOne, dayOne.plusDays(1))).containsExactly(60L, 56L));
            agent.send(agent.lifecycle(LifecycleState.STOPPED, "SHUTDOWN", lateOnDayOne.plus(Duration.ofHours(2))));
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() ->
                            Staff.analyst().get("/api/v1/vms/{id}", vm).then().body("running", equalTo(false)));
        }

        assertThat(minutes(dayOne, dayOne.plusDays(1))).containsExactly(60L, 60L);
        JsonPath ledger = Staff.analyst()
                .queryParam("from", dayOne.toString())
                .queryParam("to", dayOne.plusDays(1).toString())
                .queryParam("release", release)
                .get("/api/v1/fleet/uptime")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(ledger.getList("day", String.class))
                .containsExactly(dayOne.toString(), dayOne.plusDays(1).toString());
        assertThat(ledger.getList("product", String.class)).containsOnly("AcmeOS");
    }

    /** VM-minutes per day (JSON numbers come back as floats; minutes compare exactly). */
    private java.util.List<Long> minutes(LocalDate from, LocalDate to) {
        return Staff.analyst()
                .queryParam("from", from.toString())
                .queryParam("to", to.toString())
                .queryParam("release", release)
                .get("/api/v1/fleet/uptime")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("vmHours", Float.class)
                .stream()
                .map(h -> Math.round(h * 60.0))
                .toList();
    }

    @Test
    void silenceLongerThanTheMaximumGapIsNotCredited() throws Exception {
        String vm = UUID.randomUUID().toString();
        Instant morning = dayOne.atTime(10, 0).toInstant(ZoneOffset.UTC);
        try (AgentTraffic agent = new AgentTraffic(
                endpoints, "quiet-host-" + UUID.randomUUID(), AgentTraffic.vm(vm, "AcmeOS", release))) {
            agent.send(agent.lifecycle(LifecycleState.STARTED, "BOOTED", morning));
            agent.send(agent.lifecycle(LifecycleState.STOPPED, "DESTROYED", morning.plus(Duration.ofHours(2))));
        }

        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> Staff.analyst()
                        .queryParam("from", dayOne.toString())
                        .queryParam("to", dayOne.toString())
                        .queryParam("release", release)
                        .get("/api/v1/fleet/uptime")
                        .then()
                        .statusCode(200)
                        // Two hours apart with nothing heard in between: only the 5-minute maximum gap counts.
                        .body("vmHours", org.hamcrest.Matchers.contains((float) (5.0 / 60.0))));
    }

    @Test
    void theBooksCountVmsPerReleaseAndHostsPerAgentVersion() throws Exception {
        String host = "books-host-" + UUID.randomUUID();
        Instant now = Instant.now();
        for (int i = 0; i < 2; i++) {
            String vm = UUID.randomUUID().toString();
            try (AgentTraffic agent = new AgentTraffic(endpoints, host, AgentTraffic.vm(vm, "AcmeOS", release))) {
                agent.send(agent.lifecycle(LifecycleState.DEFINED, "ADDED", now.minusSeconds(10)));
                if (i == 0) {
                    agent.send(agent.lifecycle(LifecycleState.STARTED, "BOOTED", now.minusSeconds(5)));
                }
            }
        }

        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> Staff.analyst()
                        .get("/api/v1/fleet/releases")
                        .then()
                        .statusCode(200)
                        .body("find { it.release == '" + release + "' }.vms", equalTo(2))
                        .body("find { it.release == '" + release + "' }.running", equalTo(1))
                        .body("find { it.release == '" + release + "' }.product", equalTo("AcmeOS")));
        Staff.analyst()
                .get("/api/v1/fleet/agent-versions")
                .then()
                .statusCode(200)
                .body(
                        "find { it.agentVersion == '1.4.0' && it.tenant == 'acme' }.hosts",
                        org.hamcrest.Matchers.greaterThanOrEqualTo(1));
    }

    @Test
    void badDatesAreA400WithTheReason() {
        Staff.analyst()
                .queryParam("from", "yesterday")
                .queryParam("to", "2026-11-24")
                .get("/api/v1/fleet/uptime")
                .then()
                .statusCode(400)
                .body("detail", org.hamcrest.Matchers.containsString("from must be an ISO date"));
    }
}
