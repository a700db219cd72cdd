package dev.vigil.triage.uptime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.triage.api.JwtKeys;
import dev.vigil.triage.api.Tokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.config.HttpClientConfig;
import io.restassured.config.RestAssuredConfig;
import io.smallrye.faulttolerance.api.CircuitBreakerMaintenance;
import jakarta.inject.Inject;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Crash rates when ingestion's uptime ledger ({@link UptimeStub}) does not answer or answers too much: triage's own
 * answers come back at once, without VM-hours or rates, and once the breaker has opened triage stops asking.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
@WithTestResource(value = UptimeStub.class, scope = TestResourceScope.MATCHING_RESOURCES)
class UptimeLedgerDownIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * How long a test waits for one of triage's answers: far below the silent stub (it never answers) and triage's
     * read timeout (120 s), so only the uptime timeout or an open breaker lets an answer come back in time.
     */
    private static final int PATIENCE_MILLIS = 15_000;

    private final String product = "Prod-" + UUID.randomUUID();

    @Inject
    CircuitBreakerMaintenance breakers;

    @BeforeEach
    void closedBreaker() {
        breakers.resetAll();
    }

    @Test
    void silentIngestionGivesAnswersWithoutRatesAndThenIsNoLongerAsked() throws Exception {
        // Ingestion answering: the release's VM-hours and rate are there (so the nulls below are the silence's).
        JsonNode answered = health("1.0");
        assertThat(answered.get("vmHours").asDouble()).isEqualTo(UptimeStub.VM_HOURS);
        assertThat(answered.get("ratePer1000VmHours").isNull()).isFalse();

        // Ingestion silent: release health and a bucket page come back, without VM-hours or rates. The bucket page
        // asks with a database connection open and queries after: a timed-out question must not spoil it.
        JsonNode silent = health(UptimeStub.SILENT);
        assertThat(silent.get("vmHours").isNull()).isTrue();
        assertThat(silent.get("ratePer1000VmHours").isNull()).isTrue();
        assertThat(buckets(UptimeStub.SILENT).get("vmHours").isNull()).isTrue();
        assertThat(health(UptimeStub.SILENT).get("vmHours").isNull()).isTrue();

        // Three of the last four questions failed: the breaker is open, and triage no longer asks, not even about a
        // release the stub would answer at once.
        JsonNode notAsked = health("1.0");
        assertThat(notAsked.get("vmHours").isNull()).isTrue();
        assertThat(notAsked.get("ratePer1000VmHours").isNull()).isTrue();
        assertThat(buckets("1.0").get("vmHours").isNull()).isTrue();
        assertThat(health(UptimeStub.SILENT).get("vmHours").isNull()).isTrue();
    }

    @Test
    void anAnswerOverTheLimitGivesNoRate() throws Exception {
        assertThat(health("1.0").get("vmHours").asDouble()).isEqualTo(UptimeStub.VM_HOURS);

        // A valid ledger, four times the limit: refused whether its size is announced or only found by reading.
        JsonNode sized = health(UptimeStub.HUGE_SIZED);
        assertThat(sized.get("vmHours").isNull()).isTrue();
        assertThat(sized.get("ratePer1000VmHours").isNull()).isTrue();
        JsonNode chunked = health(UptimeStub.HUGE_CHUNKED);
        assertThat(chunked.get("vmHours").isNull()).isTrue();
        assertThat(chunked.get("ratePer1000VmHours").isNull()).isTrue();
        assertThat(buckets(UptimeStub.HUGE_CHUNKED).get("vmHours").isNull()).isTrue();

        // Refused answers say nothing about ingestion's health: they do not open the breaker.
        assertThat(health("1.0").get("vmHours").asDouble()).isEqualTo(UptimeStub.VM_HOURS);
        assertThat(health("1.0").get("vmHours").asDouble()).isEqualTo(UptimeStub.VM_HOURS);
    }

    private JsonNode health(String release) throws Exception {
        return get("/api/v1/releases/health", release);
    }

    private JsonNode buckets(String release) throws Exception {
        return get("/api/v1/buckets", release);
    }

    private JsonNode get(String path, String release) throws Exception {
        String body = Tokens.analyst()
                .config(patient())
                .queryParam("product", product)
                .queryParam("release", release)
                .get(path)
                .then()
                .statusCode(200)
                .extract()
                .asString();
        return JSON.readTree(body);
    }

    /** The default configuration, but a request that waits longer than {@link #PATIENCE_MILLIS} fails. */
    private static RestAssuredConfig patient() {
        return RestAssured.config()
                .httpClient(HttpClientConfig.httpClientConfig()
                        .setParam("http.socket.timeout", PATIENCE_MILLIS)
                        .setParam("http.connection.timeout", PATIENCE_MILLIS));
    }
}
