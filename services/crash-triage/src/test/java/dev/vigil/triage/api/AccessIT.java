package dev.vigil.triage.api;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.OpenApiAccess;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.smallrye.jwt.build.Jwt;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Who may call the analyst API: a token is needed, and its roles decide what it may do. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class AccessIT {

    @Test
    void withoutATokenEveryEndpointAnswers401WithAProblem() {
        for (String path : new String[] {"/api/v1/buckets", "/api/v1/buckets/search?q=x"}) {
            given().get(path)
                    .then()
                    .statusCode(401)
                    .header("WWW-Authenticate", "Bearer")
                    .body("status", equalTo(401))
                    .body("title", equalTo("Not authenticated"));
        }
        given().contentType("text/plain")
                .body("anything")
                .post("/api/v1/signatures")
                .then()
                .statusCode(401)
                .body("title", equalTo("Not authenticated"));
    }

    @Test
    void aTokenSignedWithAnotherKeyOrExpiredIs401() throws Exception {
        var other = KeyPairGenerator.getInstance("RSA");
        other.initialize(2048);
        String forged = Jwt.issuer("https://auth.vigil.dev")
                .upn("mallory")
                .groups("admin")
                .sign(other.generateKeyPair().getPrivate());
        given().auth()
                .oauth2(forged)
                .get("/api/v1/buckets")
                .then()
                .statusCode(401)
                .body("title", equalTo("Not authenticated"));
        String expired = Jwt.issuer("https://auth.vigil.dev")
                .upn("ana")
                .groups("analyst")
                .issuedAt(1_000_000L)
                .expiresAt(1_000_600L)
                .sign();
        given().auth().oauth2(expired).get("/api/v1/buckets").then().statusCode(401);
    }

    @Test
    void aTokenWithoutAnAnalystOrAdminRoleIs403WithAProblem() {
        given().auth()
                .oauth2(Tokens.token("olga", "operator"))
                .get("/api/v1/buckets")
                .then()
                .statusCode(403)
                .body("status", equalTo(403))
                .body("detail", containsString("analyst"));
    }

    @Test
    void analystsAndAdminsRead() {
        Tokens.analyst().get("/api/v1/buckets").then().statusCode(200);
        Tokens.admin().get("/api/v1/buckets").then().statusCode(200);
    }

    @Test
    void theOpenApiDocumentDescribesTheBearerSchemeAndTheProblems() {
        given().accept("application/json")
                .get("/q/openapi")
                .then()
                .statusCode(200)
                .body("components.securitySchemes.jwt.scheme", equalTo("bearer"))
                .body("paths.'/api/v1/buckets/search'.get.responses.'403'.description", containsString("role"));
    }

    /** Every endpoint of the analyst API, with a body it would accept from someone allowed to call it. */
    private record Endpoint(String method, String path, String contentType, String body, boolean adminOnly) {}

    private static List<Endpoint> endpoints() {
        String bucket = "/api/v1/buckets/" + UUID.randomUUID();
        String json = "application/json";
        return List.of(
                new Endpoint("GET", "/api/v1/buckets", null, null, false),
                new Endpoint("GET", "/api/v1/buckets/search?q=x", null, null, false),
                new Endpoint("GET", bucket, null, null, false),
                new Endpoint("GET", "/api/v1/buckets/trends?bucket=" + UUID.randomUUID(), null, null, false),
                new Endpoint("GET", bucket + "/history", null, null, false),
                new Endpoint(
                        "GET", "/api/v1/reports/" + UUID.randomUUID() + "/artifacts/CONSOLE_TEXT", null, null, false),
                new Endpoint("GET", "/api/v1/releases", null, null, false),
                new Endpoint("GET", "/api/v1/releases/health?product=p&release=r", null, null, false),
                new Endpoint("POST", "/api/v1/signatures", "text/plain", "Kernel panic - not syncing: x", false),
                new Endpoint("POST", bucket + "/notes", json, "{\"text\":\"seen on 6.1\"}", false),
                new Endpoint(
                        "POST", bucket + "/links", json, "{\"url\":\"https://bugs.example/1\",\"title\":\"b\"}", false),
                new Endpoint("POST", bucket + "/merge", json, "{\"into\":\"" + UUID.randomUUID() + "\"}", true),
                new Endpoint("POST", bucket + "/unmerge", null, null, true),
                new Endpoint("PUT", bucket + "/collection-policy", json, "{\"dump\":\"none\"}", true),
                new Endpoint("POST", "/api/v1/rules/dry-run", json, "{}", true));
    }

    private static Response call(RequestSpecification as, Endpoint e) {
        RequestSpecification request = e.contentType() == null ? as : as.contentType(e.contentType());
        if (e.body() != null) {
            request = request.body(e.body());
        }
        return request.request(e.method(), e.path());
    }

    @Test
    void everyEndpointRefusesNoTokenATokenWithoutARoleAndAnAnalystWhereAdminsOnlyMay() {
        for (Endpoint e : endpoints()) {
            String what = e.method() + " " + e.path();
            assertThat(call(given(), e).statusCode()).as("no token: " + what).isEqualTo(401);
            Response nobody = call(given().auth().oauth2(Tokens.token("nobody@vendor.example")), e);
            assertThat(nobody.statusCode()).as("no role: " + what).isEqualTo(403);
            assertThat(nobody.jsonPath().getInt("status"))
                    .as("problem body: " + what)
                    .isEqualTo(403);
            int analyst = call(Tokens.analyst(), e).statusCode();
            if (e.adminOnly()) {
                assertThat(analyst).as("analyst: " + what).isEqualTo(403);
            } else {
                assertThat(analyst).as("analyst: " + what).isNotIn(401, 403);
            }
            assertThat(call(Tokens.admin(), e).statusCode())
                    .as("admin: " + what)
                    .isNotIn(401, 403);
        }
    }

    @Test
    void everySecuredOperationDocumentsItsRefusalsAsProblems() {
        OpenApiAccess.requireDocumentedRefusals(
                given().accept("application/json").get("/q/openapi").jsonPath().getMap("paths"), 13);
    }
}
