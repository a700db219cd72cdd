package dev.vigil.dispatch;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.OpenApiAccess;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.smallrye.jwt.build.Jwt;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every door of the API, read from its own OpenAPI document: none opens without credentials, staff tokens and host
 * tokens each open only their own, and the document says which scheme each needs.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class AccessIT {

    @Test
    void everyOperationInTheOpenApiDocumentRefusesAnonymousCallersWithAProblem() {
        List<String> checked = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> path : paths().entrySet()) {
            for (String method : path.getValue().keySet()) {
                String url = path.getKey().replaceAll("\\{[^}]+}", "x");
                // The public sign-up pages, and the redemption that its one-time token authenticates.
                if (!url.startsWith("/api/") || url.equals("/api/v1/enrolments/redeem")) {
                    continue;
                }
                // A body of the kind the operation takes: authentication comes first, whatever it holds.
                String type = mediaType(path.getValue().get(method));
                Response response = given().contentType(type)
                        .body("{}".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                        .request(method, url);
                assertThat(response.statusCode())
                        .as(method + " " + url + " (" + type + ")")
                        .isEqualTo(401);
                assertThat(response.contentType()).as(method + " " + url).startsWith("application/problem+json");
                checked.add(method.toUpperCase() + " " + url);
            }
        }
        assertThat(checked)
                .hasSizeGreaterThan(25)
                .contains("POST /api/v1/commands", "GET /api/v1/agent/repository/timestamp");
    }

    @Test
    void theDocumentDescribesBothSchemesAndWhichOperationsNeedWhich() {
        JsonPath openapi = given().accept("application/json")
                .get("/q/openapi")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();

        assertThat(openapi.getMap("components.securitySchemes.jwt")).containsEntry("scheme", "bearer");
        assertThat(openapi.getMap("components.securitySchemes.host")).containsEntry("scheme", "VigilHost");
        assertThat(openapi.getList("paths.'/api/v1/agent/repository/timestamp'.get.security"))
                .isEqualTo(List.of(Map.of("host", List.of())));
        assertThat(openapi.getString("paths.'/api/v1/commands'.post.security")).contains("jwt");
    }

    @Test
    void staffTokensDoNotOpenTheAgentApiNorHostTokensTheStaffApi() throws Exception {
        Staff.admin().get("/api/v1/agent/licenses").then().statusCode(403);
        String hostToken = Enrolments.host(Vendor.product(), "beta", "access-" + java.util.UUID.randomUUID())
                .getString("hostToken");
        Enrolments.asHost(hostToken).get("/api/v1/agent/licenses").then().statusCode(200);
        Enrolments.asHost(hostToken).get("/api/v1/products").then().statusCode(403);
        // A host token sent as a bearer token is not a JWT.
        given().auth().oauth2(hostToken).get("/api/v1/products").then().statusCode(401);
        // Nor is a JWT signed with another key, or an expired one.
        var other = KeyPairGenerator.getInstance("RSA");
        other.initialize(2048);
        String forged = Jwt.issuer("https://auth.vigil.dev")
                .upn("mallory")
                .groups("admin")
                .sign(other.generateKeyPair().getPrivate());
        given().auth().oauth2(forged).get("/api/v1/products").then().statusCode(401);
        String expired = Jwt.issuer("https://auth.vigil.dev")
                .upn("ana")
                .groups("analyst")
                .issuedAt(1_000_000L)
                .expiresAt(1_000_600L)
                .sign();
        given().auth().oauth2(expired).get("/api/v1/products").then().statusCode(401);
    }

    @SuppressWarnings("unchecked")
    private static String mediaType(Object operation) {
        Object body = ((Map<String, Object>) operation).get("requestBody");
        if (body == null) {
            return "application/json";
        }
        Map<String, Object> content = (Map<String, Object>) ((Map<String, Object>) body).get("content");
        return content.keySet().iterator().next();
    }

    private static Map<String, Map<String, Object>> paths() {
        return given().accept("application/json")
                .get("/q/openapi")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getMap("paths");
    }

    @Test
    void everySecuredOperationDocumentsItsRefusalsAsProblems() {
        OpenApiAccess.requireDocumentedRefusals(
                given().accept("application/json").get("/q/openapi").jsonPath().getMap("paths"), 25);
    }
}
