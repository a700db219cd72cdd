package dev.vigil.ingestion;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.OpenApiAccess;
import dev.vigil.devstack.StaffTokenResource;
import dev.vigil.devstack.StaffTokens;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Who may call ingestion's API: every endpoint needs a token from the vendor's identity provider, and its roles decide
 * what it may do. Readers (analyst, operator, admin) read; only operators and admins re-drive dead letters.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
class AccessIT {

    private static final List<String> EVERY_ROLE = List.of("analyst", "operator", "admin");

    /** Every endpoint, the roles allowed to call it, and a request someone allowed would send. */
    private record Endpoint(String method, String path, List<String> roles) {}

    private static List<Endpoint> endpoints() {
        String vm = "/api/v1/vms/" + UUID.randomUUID();
        return List.of(
                new Endpoint("GET", "/api/v1/hosts", EVERY_ROLE),
                new Endpoint("GET", "/api/v1/hosts/some-host", EVERY_ROLE),
                new Endpoint("GET", "/api/v1/vms", EVERY_ROLE),
                new Endpoint("GET", vm, EVERY_ROLE),
                new Endpoint("GET", vm + "/events", EVERY_ROLE),
                new Endpoint("GET", vm + "/feedback", EVERY_ROLE),
                new Endpoint("GET", vm + "/artifacts", EVERY_ROLE),
                new Endpoint("GET", "/api/v1/incidents", EVERY_ROLE),
                new Endpoint("GET", "/api/v1/incidents/" + UUID.randomUUID(), EVERY_ROLE),
                new Endpoint("GET", "/api/v1/fleet/releases", EVERY_ROLE),
                new Endpoint("GET", "/api/v1/fleet/agent-versions", EVERY_ROLE),
                new Endpoint("GET", "/api/v1/fleet/uptime?from=2026-01-01&to=2026-01-02", EVERY_ROLE),
                new Endpoint("POST", "/api/v1/dead-letters/replays?reason=BECAUSE", List.of("operator", "admin")),
                new Endpoint("GET", "/api/v1/dead-letters/replays", List.of("operator", "admin")),
                new Endpoint("GET", "/api/v1/dead-letters/replays/" + UUID.randomUUID(), List.of("operator", "admin")));
    }

    private static Response call(RequestSpecification as, Endpoint e) {
        return as.request(e.method(), e.path());
    }

    @Test
    void everyEndpointRefusesNoTokenAForgedOneAnExpiredOneAndAWrongRoleAndServesTheRightRoles() throws Exception {
        StaffTokens forger = StaffTokens.in(Files.createTempDirectory("vigil-forger-"));
        String forged = forger.token("mallory@example.org", List.of("admin"), Duration.ofHours(1));
        String expired =
                StaffTokens.ephemeral().token("ana@vendor.example", List.of("analyst"), Duration.ofSeconds(-120));
        for (Endpoint e : endpoints()) {
            String what = e.method() + " " + e.path();
            Response none = call(given(), e);
            assertThat(none.statusCode()).as("no token: " + what).isEqualTo(401);
            assertThat(none.contentType()).as("no token: " + what).startsWith("application/problem+json");
            assertThat(none.header("WWW-Authenticate")).as("challenge: " + what).isEqualTo("Bearer");
            assertThat(call(given().auth().oauth2(forged), e).statusCode())
                    .as("forged: " + what)
                    .isEqualTo(401);
            assertThat(call(given().auth().oauth2(expired), e).statusCode())
                    .as("expired: " + what)
                    .isEqualTo(401);
            assertThat(call(given().auth().oauth2("not.a.jwt"), e).statusCode())
                    .as("garbage: " + what)
                    .isEqualTo(401);
            Response nobody = call(given().auth().oauth2(Staff.token("nobody@vendor.example")), e);
            assertThat(nobody.statusCode()).as("no role: " + what).isEqualTo(403);
            assertThat(nobody.jsonPath().getString("detail"))
                    .as("403 names the roles: " + what)
                    .contains(e.roles().get(0));
            for (String role : EVERY_ROLE) {
                int status = call(given().auth().oauth2(Staff.token(role + "@vendor.example", role)), e)
                        .statusCode();
                if (e.roles().contains(role)) {
                    assertThat(status).as(role + ": " + what).isNotIn(401, 403);
                } else {
                    assertThat(status).as(role + ": " + what).isEqualTo(403);
                }
            }
        }
    }

    @Test
    void healthMetricsAndTheOpenApiDocumentStayOpenForProbesAndTheDocumentDescribesTheScheme() {
        given().get("/q/health/ready").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
        given().accept("application/json")
                .get("/q/openapi")
                .then()
                .statusCode(200)
                .body("components.securitySchemes.jwt.scheme", equalTo("bearer"))
                .body("paths.'/api/v1/vms'.get.security[0].jwt", equalTo(List.of()))
                .body("paths.'/api/v1/vms'.get.responses.'403'.description", containsString("roles"));
    }

    @Test
    void everySecuredOperationDocumentsItsRefusalsAsProblems() {
        OpenApiAccess.requireDocumentedRefusals(
                given().accept("application/json").get("/q/openapi").jsonPath().getMap("paths"), 8);
    }
}
