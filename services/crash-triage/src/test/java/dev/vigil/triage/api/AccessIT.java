package dev.vigil.triage.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.jwt.build.Jwt;
import java.security.KeyPairGenerator;
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
}
