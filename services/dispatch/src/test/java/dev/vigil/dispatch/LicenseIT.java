package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.delivery.License;
import dev.vigil.schemas.delivery.LicenseTerms;
import dev.vigil.schemas.delivery.TrustedMetadata;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Licenses as staff manage them and agents hold them: issued, read with their standing, leases renewed by the agent,
 * terms extended and licenses revoked, each new signed document pushed to the host as a {@code RENEW_LICENSE}
 * command.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class LicenseIT {

    @Test
    void anOperatorIssuesALicenseForAnEnrolledHostAndAnalystsReadIt() {
        String product = Vendor.product();
        String hostId = "host-" + UUID.randomUUID();
        Enrolments.host(product, "beta", hostId);
        Instant before = Instant.now();

        JsonPath issued = Staff.operator()
                .contentType("application/json")
                .body(Map.of("product", product, "hostId", hostId, "features", List.of("pro", "gpu"), "days", 90))
                .post("/api/v1/licenses")
                .then()
                .statusCode(201)
                .header("Location", containsString("/api/v1/licenses/"))
                .extract()
                .jsonPath();

        String id = issued.getString("id");
        assertThat(issued.getString("standing")).isEqualTo("ACTIVE");
        assertThat(issued.getLong("sequence")).isEqualTo(1);
        assertThat(issued.getList("features", String.class)).containsExactly("gpu", "pro");
        assertThat(issued.getString("issuedBy")).isEqualTo("otto@vendor.example");
        assertThat(issued.getString("enrolmentId")).isNull();
        assertThat(Instant.parse(issued.getString("validUntil")))
                .isCloseTo(before.plus(Duration.ofDays(90)), within(1, ChronoUnit.MINUTES));
        assertThat(Instant.parse(issued.getString("leaseExpiresAt")))
                .isCloseTo(before.plus(Duration.ofHours(24)), within(1, ChronoUnit.MINUTES));

        List<Map<String, Object>> listed = Staff.analyst()
                .queryParam("host", hostId)
                .get("/api/v1/licenses")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("$");
        // The enrolment's license and the operator's, newest first.
        assertThat(listed)
                .extracting(l -> l.get("issuedBy"))
                .containsExactly(
                        "otto@vendor.example", "enrolment " + listed.get(1).get("enrolmentId"));
        assertThat(listed).allSatisfy(l -> assertThat(l.get("standing")).isEqualTo("ACTIVE"));
        Staff.analyst()
                .get("/api/v1/licenses/" + id)
                .then()
                .statusCode(200)
                .body("hostId", equalTo(hostId))
                .body("product", equalTo(product))
                .body("standing", equalTo("ACTIVE"))
                .body("validUntil", equalTo(issued.getString("validUntil")));
        Staff.analyst()
                .get("/api/v1/licenses/" + UUID.randomUUID())
                .then()
                .statusCode(404)
                .body("title", equalTo("Unknown license"));

        Staff.operator()
                .contentType("application/json")
                .body(Map.of("product", product, "hostId", "never-enrolled-" + UUID.randomUUID()))
                .post("/api/v1/licenses")
                .then()
                .statusCode(422)
                .contentType("application/problem+json")
                .body("title", equalTo("Unknown host"));
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("product", "no-such-product", "hostId", hostId))
                .post("/api/v1/licenses")
                .then()
                .statusCode(422)
                .body("title", equalTo("Unknown product"));
    }

    @Test
    void theAgentRenewsItsLeaseWithANewerSignedDocument() throws Exception {
        String product = Vendor.product();
        String hostId = "host-" + UUID.randomUUID();
        JsonPath redeemed = Enrolments.host(product, "beta", hostId);
        TrustedMetadata trusted = Enrolments.trust(redeemed);

        JsonPath held = Enrolments.asHost(redeemed.getString("hostToken"))
                .get("/api/v1/agent/licenses")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(held.getList("$")).hasSize(1);
        String id = held.getString("[0].licenseId");
        License first = trusted.verifyLicense(Base64.getDecoder().decode(held.getString("[0].document")), hostId);
        assertThat(first.getSequence()).isEqualTo(1);
        assertThat(first.getLicenseId()).isEqualTo(id);

        License renewed = trusted.verifyLicense(renew(redeemed.getString("hostToken"), id, 200), hostId);

        assertThat(renewed.getLicenseId()).isEqualTo(id);
        assertThat(renewed.getSequence()).isEqualTo(2);
        assertThat(renewed.getLeaseExpiresAt()).isAfter(first.getLeaseExpiresAt());
        assertThat(renewed.getValidUntil()).isEqualTo(first.getValidUntil());
        assertThat(renewed.getRevoked()).isFalse();
        assertThat(LicenseTerms.standing(renewed, Instant.now())).isEqualTo(LicenseTerms.Standing.ACTIVE);
        Staff.analyst()
                .get("/api/v1/licenses/" + id)
                .then()
                .body("sequence", equalTo(2))
                .body("renewedAt", org.hamcrest.Matchers.notNullValue());

        // Another enrolled host's agent cannot renew (or learn of) this license.
        JsonPath other = Enrolments.host(product, "beta", "host-" + UUID.randomUUID());
        Enrolments.asHost(other.getString("hostToken"))
                .post("/api/v1/agent/licenses/" + id + "/renew")
                .then()
                .statusCode(404)
                .contentType("application/problem+json")
                .body("title", equalTo("Unknown license"));
        Enrolments.asHost(redeemed.getString("hostToken"))
                .post("/api/v1/agent/licenses/" + UUID.randomUUID() + "/renew")
                .then()
                .statusCode(404);
    }

    @Test
    void aRevokedLicenseIsPushedToTheHostAndRenewalsSaySo() throws Exception {
        String product = Vendor.product();
        String hostId = "host-" + UUID.randomUUID();
        JsonPath redeemed = Enrolments.host(product, "beta", hostId);
        TrustedMetadata trusted = Enrolments.trust(redeemed);
        String hostToken = redeemed.getString("hostToken");
        String id = licenseOf(hostId);

        Staff.operator()
                .contentType("application/json")
                .body(Map.of("reason", "chargeback on the order"))
                .post("/api/v1/licenses/" + id + "/revoke")
                .then()
                .statusCode(200)
                .body("standing", equalTo("REVOKED"))
                .body("revokedBy", equalTo("otto@vendor.example"))
                .body("revocationReason", equalTo("chargeback on the order"))
                .body("sequence", equalTo(2));
        Staff.analyst().get("/api/v1/licenses/" + id).then().body("standing", equalTo("REVOKED"));

        byte[] answer = renew(hostToken, id, 200);
        License revoked = trusted.verifyLicense(answer, hostId);
        assertThat(revoked.getRevoked()).isTrue();
        assertThat(revoked.getRevocationReason()).isEqualTo("chargeback on the order");
        assertThat(revoked.getSequence()).isEqualTo(2);
        assertThat(LicenseTerms.standing(revoked, Instant.now())).isEqualTo(LicenseTerms.Standing.REVOKED);
        // Renewing again does not bring it back.
        assertThat(renew(hostToken, id, 200)).isEqualTo(answer);

        Map<String, Object> command = awaitLicenseCommand(hostId, hostToken, id, 1);
        assertThat(command.get("issuedBy")).isEqualTo("otto@vendor.example");
        byte[] pushed = Base64.getDecoder().decode(argument(command, "license"));
        assertThat(pushed).isEqualTo(answer);
        assertThat(trusted.verifyLicense(pushed, hostId).getRevoked()).isTrue();

        // A revoked license stays revoked: no extension, and a second revocation changes nothing.
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("days", 30))
                .post("/api/v1/licenses/" + id + "/renew")
                .then()
                .statusCode(409)
                .body("title", equalTo("License revoked"));
        Staff.operator()
                .contentType("application/json")
                .body(Map.of("reason", "again"))
                .post("/api/v1/licenses/" + id + "/revoke")
                .then()
                .statusCode(200)
                .body("sequence", equalTo(2))
                .body("revocationReason", equalTo("chargeback on the order"));
        Staff.operator()
                .contentType("application/json")
                .body(Map.of())
                .post("/api/v1/licenses/" + id + "/revoke")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad revocation"));
    }

    @Test
    void anExtensionMovesTheTermAndIsPushedToTheHost() throws Exception {
        String product = Vendor.product();
        String hostId = "host-" + UUID.randomUUID();
        JsonPath redeemed = Enrolments.host(product, "beta", hostId);
        TrustedMetadata trusted = Enrolments.trust(redeemed);
        String id = licenseOf(hostId);
        Instant until = Instant.parse(
                Staff.analyst().get("/api/v1/licenses/" + id).then().extract().path("validUntil"));

        JsonPath extended = Staff.operator()
                .contentType("application/json")
                .body(Map.of("days", 10))
                .post("/api/v1/licenses/" + id + "/renew")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();

        assertThat(Instant.parse(extended.getString("validUntil"))).isEqualTo(until.plus(Duration.ofDays(10)));
        assertThat(extended.getString("standing")).isEqualTo("ACTIVE");
        assertThat(extended.getLong("sequence")).isEqualTo(2);
        Map<String, Object> command = awaitLicenseCommand(hostId, redeemed.getString("hostToken"), id, 1);
        License pushed = trusted.verifyLicense(Base64.getDecoder().decode(argument(command, "license")), hostId);
        assertThat(pushed.getSequence()).isEqualTo(2);
        assertThat(pushed.getRevoked()).isFalse();
        assertThat(pushed.getValidUntil())
                .isEqualTo(until.plus(Duration.ofDays(10)).truncatedTo(ChronoUnit.MILLIS));
        // The agent's next renewal carries the new term on.
        License renewed = trusted.verifyLicense(renew(redeemed.getString("hostToken"), id, 200), hostId);
        assertThat(renewed.getSequence()).isEqualTo(3);
        assertThat(renewed.getValidUntil()).isEqualTo(pushed.getValidUntil());
    }

    @Test
    void analystsCannotIssueExtendOrRevoke() {
        String product = Vendor.product();
        String hostId = "host-" + UUID.randomUUID();
        Enrolments.host(product, "beta", hostId);
        String id = licenseOf(hostId);

        Staff.analyst()
                .contentType("application/json")
                .body(Map.of("product", product, "hostId", hostId))
                .post("/api/v1/licenses")
                .then()
                .statusCode(403)
                .contentType("application/problem+json")
                .body("title", equalTo("Not allowed"));
        Staff.analyst()
                .contentType("application/json")
                .body(Map.of("days", 365))
                .post("/api/v1/licenses/" + id + "/renew")
                .then()
                .statusCode(403);
        Staff.analyst()
                .contentType("application/json")
                .body(Map.of("reason", "curious"))
                .post("/api/v1/licenses/" + id + "/revoke")
                .then()
                .statusCode(403);
        Staff.analyst()
                .get("/api/v1/licenses/" + id)
                .then()
                .body("standing", equalTo("ACTIVE"))
                .body("sequence", equalTo(1));
        Staff.analyst()
                .queryParam("host", hostId)
                .get("/api/v1/commands")
                .then()
                .statusCode(200)
                .body("size()", equalTo(0));
    }

    /** The agent's lease renewal: the signed document dispatch answers. */
    private static byte[] renew(String hostToken, String id, int status) {
        return Enrolments.asHost(hostToken)
                .post("/api/v1/agent/licenses/" + id + "/renew")
                .then()
                .statusCode(status)
                .contentType("application/octet-stream")
                .extract()
                .asByteArray();
    }

    /** The id of the license the host's enrolment gave it. */
    private static String licenseOf(String hostId) {
        List<String> ids = Staff.analyst()
                .queryParam("host", hostId)
                .get("/api/v1/licenses")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("id", String.class);
        assertThat(ids).hasSize(1);
        return ids.get(0);
    }

    /**
     * The newest of the host's RENEW_LICENSE commands for the license, once there are {@code count} and the host's
     * agent (asking with its host token) has fetched the newest.
     */
    private static Map<String, Object> awaitLicenseCommand(
            String hostId, String hostToken, String licenseId, int count) {
        AtomicReference<Map<String, Object>> newest = new AtomicReference<>();
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<Map<String, Object>> commands = Staff.analyst()
                    .queryParam("host", hostId)
                    .get("/api/v1/commands")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath()
                    .getList("$");
            List<Map<String, Object>> pushed = commands.stream()
                    .filter(c -> "RENEW_LICENSE".equals(c.get("action")))
                    .filter(c -> licenseId.equals(argument(c, "licenseId")))
                    .toList();
            assertThat(pushed).hasSize(count);
            List<String> fetched = Enrolments.asHost(hostToken)
                    .get("/api/v1/agent/commands?after=0")
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath()
                    .getList("commands.id");
            assertThat(fetched).contains((String) pushed.get(0).get("id"));
            newest.set(pushed.get(0));
        });
        Staff.analyst()
                .get("/api/v1/commands/" + newest.get().get("id"))
                .then()
                .statusCode(200)
                .body("state", equalTo("DELIVERED"));
        return newest.get();
    }

    private static String argument(Map<String, Object> command, String name) {
        return (String) ((Map<?, ?>) command.get("arguments")).get(name);
    }
}
