package dev.vigil.triage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.emptyOrNullString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.IncidentTrigger;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.response.ValidatableResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The console's charts: buckets' reports per UTC day ({@code /api/v1/buckets/trends}), a bucket's per release
 * ({@code /api/v1/buckets/{id}/history}) and the releases with reports ({@code /api/v1/releases}), read from the
 * roll-ups that filing keeps. Two buckets of a product of their own, with reports on chosen days of the last week:
 *
 * <pre>
 *   UTC day    today-7      today-5   today-4    today-3  today-2       today
 *   bucket a   1.0 (23:59)  2.0, 2.0             1.0                    1.0 (00:00)
 *   bucket b                          (neither)  1.0      (bare, no release)
 * </pre>
 *
 * Releases are of {@code product}; b's report of today-4 names neither a product nor a release, and its report of
 * today-2 only the product {@code bare}. Most questions ask about today-6 to today-1, which leaves out a's reports
 * just before and just after it.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BucketTrendIT {

    private final String tag =
            "w" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    private final String product = "Trend-" + UUID.randomUUID();
    /** A product whose reports name no release. */
    private final String bare = product + "-bare";

    private final Instant now = Instant.now();
    private final LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
    private final String from = today.minusDays(6).toString();
    private final String to = today.minusDays(1).toString();

    private String a;
    private String b;

    // Once, before the first test rather than in @BeforeAll: RestAssured knows the app's port only from then.
    @BeforeEach
    void crashes() throws Exception {
        if (a != null) {
            return;
        }
        ArtifactRef first = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "a"));
        ArtifactRef second = CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "b"));
        CrashFixtures.send(
                report(product, "1.0", day(7).plus(Duration.ofDays(1)).minusMillis(1), first),
                report(product, "2.0", noon(5), first),
                report(product, "2.0", noon(5).plusSeconds(1), first),
                report(product, "1.0", noon(3), first),
                report(product, "1.0", day(0), first),
                report(null, null, noon(4), second),
                report(product, "1.0", noon(3), second),
                report(bare, null, noon(2), second));
        a = awaitBucket(tag + "a", 5);
        b = awaitBucket(tag + "b", 3);
    }

    @Test
    void trendsCountEachBucketsReportsPerUtcDayWithZerosElsewhere() {
        String none = UUID.randomUUID().toString();
        JsonPath trends = trends(Map.of("from", from, "to", to), a, b, none);

        assertThat(trends.getList("days", String.class))
                .containsExactly(days(6, 1).toArray(String[]::new));
        assertThat(trends.getMap("counts").keySet()).containsExactly(a, b, none);
        assertThat(counts(trends, a)).containsExactly(0, 2, 0, 1, 0, 0);
        assertThat(counts(trends, b)).containsExactly(0, 0, 1, 1, 1, 0);
        assertThat(counts(trends, none)).containsExactly(0, 0, 0, 0, 0, 0);
    }

    @Test
    void trendsOfOneProductOrReleaseCountOnlyItsReports() {
        JsonPath ofProduct = trends(Map.of("from", from, "to", to, "product", product), a, b);
        assertThat(counts(ofProduct, a)).containsExactly(0, 2, 0, 1, 0, 0);
        assertThat(counts(ofProduct, b)).containsExactly(0, 0, 0, 1, 0, 0);

        JsonPath ofRelease = trends(Map.of("from", from, "to", to, "product", product, "release", "2.0"), a, b);
        assertThat(counts(ofRelease, a)).containsExactly(0, 2, 0, 0, 0, 0);
        assertThat(counts(ofRelease, b)).containsExactly(0, 0, 0, 0, 0, 0);
    }

    @Test
    void trendsDefaultToTheLast14DaysEndingToday() {
        JsonPath trends = trends(Map.of(), a);

        assertThat(trends.getList("days", String.class))
                .containsExactly(days(13, 0).toArray(String[]::new));
        // today-7, today-5, today-3 and today: days 6, 8, 10 and 13 of 14.
        assertThat(counts(trends, a)).containsExactly(0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 1, 0, 0, 1);
    }

    @Test
    void historySplitsABucketsReportsByReleaseMostReportsFirst() {
        JsonPath history = history(a, Map.of("from", from, "to", to));

        assertThat(history.getString("bucket")).isEqualTo(a);
        assertThat(history.getList("days", String.class))
                .containsExactly(days(6, 1).toArray(String[]::new));
        assertThat(history.getList("releases.release", String.class)).containsExactly("2.0", "1.0");
        assertThat(history.getList("releases.product", String.class)).containsOnly(product);
        assertThat(history.getList("releases.total", Integer.class)).containsExactly(2, 1);
        assertThat(history.getList("releases[0].counts", Integer.class)).containsExactly(0, 2, 0, 0, 0, 0);
        assertThat(history.getList("releases[1].counts", Integer.class)).containsExactly(0, 0, 0, 1, 0, 0);

        JsonPath unnamed = history(b, Map.of("from", from, "to", to));
        assertThat(unnamed.getList("releases.total", Integer.class)).containsExactly(1, 1, 1);
        // Ties go by product, then release: '' (reports that said neither) first.
        assertThat(unnamed.getList("releases.product", String.class)).containsExactly("", product, bare);
        assertThat(unnamed.getList("releases.release", String.class)).containsExactly("", "1.0", "");
        assertThat(unnamed.getList("releases[0].counts", Integer.class)).containsExactly(0, 0, 1, 0, 0, 0);
    }

    @Test
    void historyDefaultsToTheLast30DaysEndingToday() {
        JsonPath history = history(a, Map.of());

        assertThat(history.getList("days", String.class))
                .containsExactly(days(29, 0).toArray(String[]::new));
        assertThat(history.getList("releases.release", String.class)).containsExactly("1.0", "2.0");
        assertThat(history.getList("releases.total", Integer.class)).containsExactly(3, 2);
        List<Integer> expected = new ArrayList<>(Collections.nCopies(30, 0));
        expected.set(22, 1); // today-7
        expected.set(26, 1); // today-3
        expected.set(29, 1); // today
        assertThat(history.getList("releases[0].counts", Integer.class)).isEqualTo(expected);
    }

    @Test
    void releasesListsThoseWithReportsInTheWindowLatestFirst() {
        JsonPath page = releases(Map.of("from", from, "to", to));

        assertThat(page.getString("from")).isEqualTo(from);
        assertThat(page.getString("to")).isEqualTo(to);
        List<Map<String, Object>> ours = page.<Map<String, Object>>getList("items").stream()
                .filter(r -> String.valueOf(r.get("product")).startsWith(product))
                .toList();
        assertThat(ours)
                .extracting(r -> r.get("product"), r -> r.get("release"))
                .containsExactly(tuple(bare, ""), tuple(product, "1.0"), tuple(product, "2.0"));
        assertThat(ours).extracting(r -> r.get("reports")).containsExactly(1, 2, 2);
        assertThat(ours).extracting(r -> r.get("buckets")).containsExactly(1, 2, 1);
        assertThat(ours.get(2).get("firstSeen")).isEqualTo(noon(5).toString());
        assertThat(ours.get(2).get("lastSeen")).isEqualTo(noon(5).plusSeconds(1).toString());
        assertThat(ours.get(1).get("firstSeen")).isEqualTo(noon(3).toString());
        // Reports that said neither product nor release are no release; the list is latest report first throughout.
        assertThat(page.<Map<String, Object>>getList("items"))
                .noneMatch(r -> "".equals(r.get("product")) && "".equals(r.get("release")));
        List<Instant> last = page.getList("items.lastSeen", String.class).stream()
                .map(Instant::parse)
                .toList();
        assertThat(last).isSortedAccordingTo(Comparator.reverseOrder());

        JsonPath recent = releases(Map.of());
        assertThat(recent.getString("from")).isEqualTo(today.minusDays(89).toString());
        assertThat(recent.getString("to")).isEqualTo(today.toString());
        assertThat(recent.<Map<String, Object>>getList("items").stream()
                        .filter(r -> product.equals(r.get("product")) && "1.0".equals(r.get("release")))
                        .map(r -> r.get("reports")))
                .containsExactly(4);
    }

    @Test
    void badBucketsAndWindowsAre400sAndAnUnknownBucketIs404() {
        String trends = "/api/v1/buckets/trends";
        problem(Tokens.analyst().get(trends), 400, "Bad parameter", trends)
                .body("detail", startsWith("bucket is required"));
        problem(Tokens.analyst().queryParam("bucket", a, "nope").get(trends), 400, "Bad parameter", trends)
                .body("detail", startsWith("bucket must be a UUID"));
        problem(
                        Tokens.analyst()
                                .queryParam("bucket", a)
                                .queryParam("from", to)
                                .queryParam("to", from)
                                .get(trends),
                        400,
                        "Bad window",
                        trends)
                .body("detail", equalTo("from (" + to + ") is after to (" + from + ")"));
        problem(
                        Tokens.analyst()
                                .queryParam("bucket", a)
                                .queryParam("from", "2025-01-01")
                                .queryParam("to", "2026-01-02")
                                .get(trends),
                        400,
                        "Bad window",
                        trends)
                .body("detail", equalTo("the window is at most 366 days, from and to included, got 367"));
        Tokens.analyst()
                .queryParam("bucket", a)
                .queryParam("from", "2024-01-01")
                .queryParam("to", "2024-12-31")
                .get(trends)
                .then()
                .statusCode(200)
                .body("days.size()", equalTo(366));
        for (String day : List.of("yesterday", "2026-13-01", "+10000-01-01")) {
            problem(
                            Tokens.analyst()
                                    .queryParam("bucket", a)
                                    .queryParam("from", day)
                                    .get(trends),
                            400,
                            "Bad window",
                            trends)
                    .body("detail", startsWith("from must be a UTC day such as 2026-11-24"));
        }
        // As many ids as a URI holds are answered; more than that is refused before any id is read.
        Tokens.analyst()
                .queryParam("bucket", ids(90))
                .get(trends)
                .then()
                .statusCode(200)
                .body("counts.size()", equalTo(90));
        problem(Tokens.analyst().queryParam("bucket", ids(201)).get(trends), 414, "Request-URI Too Long", trends);

        String history = "/api/v1/buckets/" + a + "/history";
        problem(Tokens.analyst().queryParam("to", "2026-02-30").get(history), 400, "Bad window", history)
                .body("detail", startsWith("to must be a UTC day"));
        String unknown = "/api/v1/buckets/" + UUID.randomUUID() + "/history";
        problem(Tokens.analyst().get(unknown), 404, "No such bucket", unknown);
        problem(Tokens.analyst().get("/api/v1/buckets/nope/history"), 400, "Bad parameter", null)
                .body("detail", startsWith("the bucket id must be a UUID"));

        problem(
                        Tokens.analyst().queryParam("from", "2020-01-01").get("/api/v1/releases"),
                        400,
                        "Bad window",
                        "/api/v1/releases")
                .body("detail", startsWith("the window is at most 366 days"));
    }

    private JsonPath trends(Map<String, String> query, String... buckets) {
        return Tokens.analyst()
                .queryParams(query)
                .queryParam("bucket", (Object[]) buckets)
                .get("/api/v1/buckets/trends")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    private static JsonPath history(String bucket, Map<String, String> query) {
        return Tokens.analyst()
                .queryParams(query)
                .get("/api/v1/buckets/" + bucket + "/history")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    private static JsonPath releases(Map<String, String> query) {
        return Tokens.analyst()
                .queryParams(query)
                .get("/api/v1/releases")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    private static List<Integer> counts(JsonPath trends, String bucket) {
        return trends.getList("counts.'" + bucket + "'", Integer.class);
    }

    /** The UTC days from {@code first} days ago to {@code last} days ago, as the API writes them. */
    private List<String> days(int first, int last) {
        return today.minusDays(first)
                .datesUntil(today.minusDays(last - 1))
                .map(LocalDate::toString)
                .toList();
    }

    private Instant day(int daysAgo) {
        return today.minusDays(daysAgo).atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    private Instant noon(int daysAgo) {
        return day(daysAgo).plus(Duration.ofHours(12));
    }

    private static List<String> ids(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(UUID.randomUUID().toString());
        }
        return ids;
    }

    private static CrashReported report(String product, String release, Instant at, ArtifactRef console) {
        return CrashFixtures.report(
                release, product, at, UUID.randomUUID().toString(), "host-1", IncidentTrigger.CRASH, List.of(console));
    }

    /** The id of the bucket whose blamed function is {@code <module>_list_del}, once it has {@code reports}. */
    private static String awaitBucket(String module, int reports) {
        JsonPath page = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> Tokens.analyst()
                                .queryParam("function", module + "_list_del")
                                .get("/api/v1/buckets/search")
                                .then()
                                .statusCode(200)
                                .extract()
                                .jsonPath(),
                        p -> p.getList("items").size() == 1 && p.getInt("items[0].reports") == reports);
        return page.getString("items[0].id");
    }

    /** A problem answer: its status, media type and body fields; {@code instance} unchecked when null. */
    private static ValidatableResponse problem(Response response, int status, String title, String instance) {
        ValidatableResponse then = response.then()
                .statusCode(status)
                .contentType(startsWith("application/problem+json"))
                .body("keySet()", containsInAnyOrder("type", "title", "status", "detail", "instance"))
                .body("type", equalTo("about:blank"))
                .body("title", equalTo(title))
                .body("status", equalTo(status))
                .body("detail", not(emptyOrNullString()));
        return instance == null ? then : then.body("instance", equalTo(instance));
    }
}
