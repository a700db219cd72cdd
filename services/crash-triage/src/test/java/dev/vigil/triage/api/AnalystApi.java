package dev.vigil.triage.api;

import static org.awaitility.Awaitility.await;

import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.function.Predicate;

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

    /** {@code GET /api/v1/buckets?release=}: the top buckets of a release, which must answer 200. */
    public static JsonPath top(String release) {
        return Tokens.analyst()
                .queryParam("release", release)
                .get("/api/v1/buckets")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    /** The top buckets of a release once {@code done} holds for them, within 30 s. */
    public static JsonPath awaitTop(String release, Predicate<JsonPath> done) {
        return await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> top(release), done);
    }

    /** The reports of a page of buckets, summed over its items. */
    public static int reportsOnPage(JsonPath page) {
        return page.getList("items.reports", Integer.class).stream()
                .mapToInt(Integer::intValue)
                .sum();
    }
}
