package dev.vigil.triage.regression;

import static org.assertj.core.api.Assertions.assertThat;
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
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Release health when triage has no uptime ledger to ask ({@code vigil.triage.uptime-url} unset, as for the other
 * API tests, whose app this one shares): counts, and no VM-hours, rates or comparison, rather than guessed ones.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class ReleaseHealthWithoutUptimeIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void unknownExposureGivesNullVmHoursRatesAndComparison() throws Exception {
        String product = "Prod-" + UUID.randomUUID();
        ArtifactRef console = CrashFixtures.console(LinuxConsoleParserTest.GPF);
        Instant now = Instant.now();
        CrashFixtures.send(report(product, "1.0", now.minus(Duration.ofDays(2)), console));
        await().atMost(Duration.ofSeconds(30))
                .until(() -> health(product, "1.0").get("reports").asLong() == 1);
        CrashFixtures.send(
                report(product, "1.1", now.minus(Duration.ofDays(1)), console),
                report(product, "1.1", now.minus(Duration.ofDays(1)).plusSeconds(1), console));

        JsonNode health = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> health(product, "1.1"), h -> h.get("reports").asLong() == 2);
        assertThat(health.has("vmHours")).isTrue();
        assertThat(health.get("vmHours").isNull()).isTrue();
        assertThat(health.get("ratePer1000VmHours").isNull()).isTrue();
        JsonNode previous = health.get("previous");
        assertThat(previous.get("release").asText()).isEqualTo("1.0");
        assertThat(previous.get("reports").asLong()).isEqualTo(1);
        assertThat(previous.get("vmHours").isNull()).isTrue();
        assertThat(previous.get("ratePer1000VmHours").isNull()).isTrue();
        assertThat(health.has("comparison")).isTrue();
        assertThat(health.get("comparison").isNull()).isTrue();
    }

    private static JsonNode health(String product, String release) throws Exception {
        String body = Tokens.analyst()
                .queryParam("product", product)
                .queryParam("release", release)
                .get("/api/v1/releases/health")
                .then()
                .statusCode(200)
                .extract()
                .asString();
        return JSON.readTree(body);
    }

    private static CrashReported report(String product, String release, Instant at, ArtifactRef console) {
        return CrashFixtures.report(
                release, product, at, UUID.randomUUID().toString(), "host-1", IncidentTrigger.CRASH, List.of(console));
    }
}
