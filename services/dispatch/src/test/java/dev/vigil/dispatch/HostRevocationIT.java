package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.HostRevocations;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.dispatch.HostRevocation;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * A revoked host: its token opens nothing from then on, it cannot enrol again, and its revocation is on the compacted
 * topic ingestion holds as its revocation list.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class HostRevocationIT {

    @Test
    void aRevokedHostIsShutOutEverywhereAndItsRevocationIsPublished() {
        String host = "lost-" + UUID.randomUUID();
        String token = Enrolments.hostToken(host);
        double revokedBefore = revokedCount();
        Enrolments.asHost(token).get("/api/v1/agent/licenses").then().statusCode(200);

        JsonPath revoked = Staff.admin()
                .contentType("application/json")
                .body(Map.of("reason", "laptop reported stolen"))
                .post("/api/v1/hosts/{id}/revocation", host)
                .then()
                .statusCode(200)
                .body("hostId", equalTo(host))
                .body("tenant", equalTo("acme"))
                .body("reason", equalTo("laptop reported stolen"))
                .extract()
                .jsonPath();
        String revokedAt = revoked.getString("revokedAt");
        assertThat(revoked.getString("revokedBy")).isNotBlank();

        // Its token opens nothing, not even its commands.
        Enrolments.asHost(token).get("/api/v1/agent/licenses").then().statusCode(401);
        Enrolments.asHost(token).get("/api/v1/agent/commands").then().statusCode(401);
        // It cannot enrol again with a new token, and the token is not used up by trying.
        String again = Enrolments.enrol(Enrolments.program(Vendor.product(), "beta"), "Ada Lovelace");
        given().contentType("application/json")
                .body(Map.of("token", again, "hostId", host, "agentVersion", "test"))
                .post("/api/v1/enrolments/redeem")
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("title", equalTo("Host revoked"));
        // A second revocation changes nothing; anyone on the staff can read it.
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("reason", "again"))
                .post("/api/v1/hosts/{id}/revocation", host)
                .then()
                .statusCode(200)
                .body("revokedAt", equalTo(revokedAt))
                .body("reason", equalTo("laptop reported stolen"));
        Staff.analyst()
                .get("/api/v1/hosts/{id}/revocation", host)
                .then()
                .statusCode(200)
                .body("revokedAt", equalTo(revokedAt));
        // Counted once, however often it is revoked.
        assertThat(revokedCount() - revokedBefore).isEqualTo(1.0);

        ConsumerRecord<String, byte[]> published = Topics.read(
                        TopicCatalog.DISPATCH_HOST_REVOCATIONS,
                        r -> HostRevocations.key("acme", host).equals(r.key()),
                        1)
                .get(0);
        HostRevocation record = EventCodec.of(HostRevocation.class).decode(published.value());
        assertThat(record.getHostId()).isEqualTo(host);
        assertThat(record.getTenant()).isEqualTo("acme");
        assertThat(record.getReason()).isEqualTo("laptop reported stolen");
        assertThat(record.getRevokedAt())
                .isEqualTo(java.time.Instant.parse(revokedAt).truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
    }

    private static double revokedCount() {
        return io.restassured.RestAssured.get("/q/metrics")
                .asString()
                .lines()
                .filter(l -> l.startsWith("vigil_dispatch_hosts_revoked_total"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    @Test
    void onlyAdminsRevokeAndBadRequestsAreNamed() {
        String host = "kept-" + UUID.randomUUID();
        Enrolments.hostToken(host);
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("reason", "why not"))
                .post("/api/v1/hosts/{id}/revocation", host)
                .then()
                .statusCode(403);
        given().contentType("application/json")
                .body(Map.of("reason", "why not"))
                .post("/api/v1/hosts/{id}/revocation", host)
                .then()
                .statusCode(401);
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("reason", " "))
                .post("/api/v1/hosts/{id}/revocation", host)
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad revocation"));
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("reason", "gone"))
                .post("/api/v1/hosts/{id}/revocation", "never-enrolled-" + UUID.randomUUID())
                .then()
                .statusCode(404)
                .body("title", equalTo("Unknown host"));
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("reason", "gone"))
                .post("/api/v1/hosts/{id}/revocation", "bad host id")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad host id"));
        Staff.analyst().get("/api/v1/hosts/{id}/revocation", host).then().statusCode(404);
    }
}
