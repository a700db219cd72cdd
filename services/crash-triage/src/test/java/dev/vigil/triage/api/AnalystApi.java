package dev.vigil.triage.api;

import io.restassured.path.json.JsonPath;

/** What the integration tests read through the analyst API, as an analyst. */
public final class AnalystApi {

    private AnalystApi() {}

    /** {@code GET /api/v1/buckets/{id}}, which must answer 200. */
    public static JsonPath detail(String id) {
        return Tokens.analyst()
                .get("/api/v1/buckets/" + id)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    /** The reports of a page of buckets, summed over its items. */
    public static int reportsOnPage(JsonPath page) {
        return page.getList("items.reports", Integer.class).stream()
                .mapToInt(Integer::intValue)
                .sum();
    }
}
