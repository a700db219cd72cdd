package dev.vigil.triage.regression;

import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.StaffTokens;
import io.restassured.RestAssured;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The devstack's {@link dev.vigil.devstack.AgentFleet} (one host agent's traffic about VMs of one release, dated in
 * the past), for tenant {@code acme}, waiting until ingestion lists the VMs it starts as running; and the release's
 * VM-hours as ingestion's uptime API answers them.
 */
final class AgentFleet {

    private final dev.vigil.devstack.AgentFleet fleet;

    /** {@code count} VMs of the release on a new host. */
    AgentFleet(String product, String release, int count) {
        this.fleet = new dev.vigil.devstack.AgentFleet("acme", product, release, count);
    }

    /** The VMs start at {@code at}; returns once ingestion lists every one of them as running. */
    AgentFleet start(Instant at) {
        fleet.start(at).awaitRunning(ingestion(), token(), Duration.ofSeconds(60));
        return this;
    }

    /** The host reports every five minutes until {@code until}, which is in the past. */
    AgentFleet heartbeatsUntil(Instant until) {
        fleet.heartbeatsUntil(until);
        return this;
    }

    /** The release's VM-hours from ingestion's uptime API over the last 365 days. */
    static double vmHours(String product, String release) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        return RestAssured.given()
                .auth()
                .oauth2(token())
                .queryParam("product", product)
                .queryParam("release", release)
                .queryParam("from", today.minusDays(365).toString())
                .queryParam("to", today.toString())
                .get(ingestion() + "/api/v1/fleet/uptime")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("vmHours", Double.class)
                .stream()
                .mapToDouble(Double::doubleValue)
                .sum();
    }

    /** Waits until ingestion's ledger holds exactly {@code hours} for the release. */
    static void awaitVmHours(String product, String release, double hours) {
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> vmHours(product, release) == hours);
    }

    /** A token ingestion trusts (it verifies with this JVM's test key, see IngestionProcess). */
    private static String token() {
        return StaffTokens.ephemeral().token("tester@vendor.example", List.of("analyst"), Duration.ofHours(1));
    }

    private static String ingestion() {
        return ConfigProvider.getConfig().getValue("vigil.triage.uptime-url", String.class);
    }
}
