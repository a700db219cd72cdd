package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.devstack.DevstackTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Every class of bad input gets a 4xx problem served as application/problem+json with a title, and an echo of the
 * input that stays bounded: non-numeric and overflowing paging, NUL and over-long ids, malformed UUIDs, wrong methods
 * and media types, over-long URIs.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class BadInputIT {

    private static void problem(Response r, int status, String what) {
        assertThat(r.statusCode()).as(what).isEqualTo(status);
        assertThat(r.contentType()).as(what + ": media type").startsWith("application/problem+json");
        assertThat(r.jsonPath().getString("title")).as(what + ": title").isNotBlank();
        assertThat(r.jsonPath().getInt("status"))
                .as(what + ": status in the body")
                .isEqualTo(status);
        assertThat(r.asString().length()).as(what + ": bounded echo").isLessThan(2000);
    }

    @Test
    void badParametersAndIdsAre400Problems() {
        Supplier<RequestSpecification> operator = Staff::operator;
        problem(operator.get().get("/api/v1/commands?limit=abc"), 400, "limit=abc");
        problem(operator.get().get("/api/v1/commands?limit=1.5"), 400, "limit=1.5");
        problem(operator.get().get("/api/v1/commands?limit=99999999999999999999"), 400, "limit overflow");
        problem(operator.get().get("/api/v1/commands?offset=-1"), 400, "offset=-1");
        problem(operator.get().get("/api/v1/commands/not-a-uuid"), 400, "malformed command id");
        problem(operator.get().urlEncodingEnabled(false).get("/api/v1/commands/ab%00cd"), 400, "NUL in an id");
        problem(operator.get().get("/api/v1/rollouts/" + "x".repeat(3000)), 400, "over-long id");
        problem(operator.get().get("/api/v1/commands?vm=" + "v".repeat(3000)), 400, "over-long vm");
        problem(operator.get().urlEncodingEnabled(false).get("/api/v1/products/ab%00cd"), 400, "NUL in a product");
    }

    @Test
    void aNulInsideAJsonBodyIsA400ProblemNotAStoreFailure() {
        // PostgreSQL text cannot hold NUL: the request is refused, saying why, before anything tries to store it.
        String product = Vendor.product();
        Response program = Staff.admin()
                .contentType("application/json")
                .body("{\"id\":\"beta-nul\",\"product\":\"" + product + "\",\"channel\":\"beta\","
                        + "\"title\":\"Try\\u0000it\",\"description\":\"d\",\"open\":true,\"licenseDays\":30}")
                .post("/api/v1/programs");
        problem(program, 400, "NUL in a programme's title");
        assertThat(program.jsonPath().getString("detail")).contains("NUL");
        Response named = Staff.admin()
                .contentType("application/json")
                .body("{\"id\":\"nul-product\",\"name\":\"a\\u0000b\",\"description\":\"d\"}")
                .post("/api/v1/products");
        problem(named, 400, "NUL in a product name");
        assertThat(named.jsonPath().getString("detail")).contains("NUL");
    }

    @Test
    void wrongMethodsMediaTypesAndUrisAreProblems() {
        problem(Staff.operator().delete("/api/v1/products"), 405, "DELETE on a list");
        problem(Staff.operator().accept("text/html").get("/api/v1/products"), 406, "Accept text/html");
        problem(
                Staff.admin().contentType("text/plain").body("x").post("/api/v1/products"),
                415,
                "text/plain to a JSON endpoint");
        problem(Staff.operator().get("/api/v1/no-such-thing"), 404, "no such path");
        problem(Staff.operator().get("/api/v1/products?q=" + "y".repeat(5000)), 414, "over-long URI");
    }
}
