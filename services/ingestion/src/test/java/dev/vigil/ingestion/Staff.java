package dev.vigil.ingestion;

import static io.restassured.RestAssured.given;

import dev.vigil.devstack.StaffTokens;
import io.restassured.specification.RequestSpecification;
import java.time.Duration;
import java.util.List;

/** Requests as vendor staff, with tokens signed by the key the service under test trusts (StaffTokenResource). */
final class Staff {

    private Staff() {}

    /** A request as an analyst, who reads. */
    static RequestSpecification analyst() {
        return given().auth().oauth2(token("ana@vendor.example", "analyst"));
    }

    /** A request as an operator, who also re-drives dead letters. */
    static RequestSpecification operator() {
        return given().auth().oauth2(token("otto@vendor.example", "operator"));
    }

    static String token(String name, String... roles) {
        return StaffTokens.ephemeral().token(name, List.of(roles), Duration.ofHours(1));
    }
}
