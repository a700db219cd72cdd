package dev.vigil.triage.api;

import static dev.vigil.triage.api.AnalystApi.awaitTop;
import static dev.vigil.triage.api.AnalystApi.detail;
import static dev.vigil.triage.api.AnalystApi.reportsOnPage;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Admins merge and unmerge buckets; analysts write notes and links. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class CurationIT {

    @Test
    void aMergeMovesReportsAndCatchesLaterOnesAndAnUnmergeRestoresBothBuckets() throws Exception {
        String tag = "m" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String release = "rel-" + UUID.randomUUID();
        String keep = LinuxConsoleParserTest.GPF.replace("acme", tag + "keep");
        String dup = LinuxConsoleParserTest.GPF.replace("acme", tag + "dup");
        CrashFixtures.send(
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(keep)),
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(keep.replace("431.", "432."))),
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(dup)));
        // Both buckets and all three reports filed: a report filed after the merge would land in the target anyway.
        JsonPath page = awaitTop(release, p -> p.getList("items").size() == 2 && reportsOnPage(p) == 3);
        String a = idOf(page, tag + "keep_list_del");
        String b = idOf(page, tag + "dup_list_del");

        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("into", a, "reason", "same list corruption"))
                .post("/api/v1/buckets/" + b + "/merge")
                .then()
                .statusCode(200)
                .body("bucket", equalTo(b))
                .body("into", equalTo(a))
                .body("by", equalTo("ada@vendor.example"))
                .body("reportsMoved", equalTo(1));

        JsonPath merged = awaitTop(release, p -> p.getList("items").size() == 1);
        assertThat(merged.getString("items[0].id")).isEqualTo(a);
        assertThat(merged.getInt("items[0].reports")).isEqualTo(3);
        JsonPath target = detail(a);
        assertThat(target.getList("mergedFrom")).containsExactly(b);
        assertThat(target.getInt("reports")).isEqualTo(3);
        JsonPath source = detail(b);
        assertThat(source.getString("mergedInto.into")).isEqualTo(a);
        assertThat(source.getString("mergedInto.reason")).isEqualTo("same list corruption");
        assertThat(source.getInt("reports")).isZero();

        // A report filed later under the merged bucket's signature counts in the target.
        CrashFixtures.send(CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(dup.replace("431.", "433."))));
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> detail(a).getInt("reports") == 4);
        assertThat(detail(b).getInt("reports")).isZero();

        Tokens.admin()
                .post("/api/v1/buckets/" + b + "/unmerge")
                .then()
                .statusCode(200)
                .body("reportsMoved", equalTo(2));
        JsonPath restored = awaitTop(release, p -> p.getList("items").size() == 2);
        assertThat(restored.getInt("items.find { it.id == '" + a + "' }.reports"))
                .isEqualTo(2);
        assertThat(restored.getInt("items.find { it.id == '" + b + "' }.reports"))
                .isEqualTo(2);
        assertThat(detail(b).getString("mergedInto")).isNull();
        assertThat(detail(a).getList("mergedFrom")).isEmpty();
        assertThat(detail(b).getList("latest.title", String.class)).allMatch(t -> t.endsWith(tag + "dup_list_del"));
    }

    @Test
    void mergesThatMakeNoSenseAreRefusedWithProblems() throws Exception {
        String release = "rel-" + UUID.randomUUID();
        String tag = "c" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        CrashFixtures.send(
                CrashFixtures.report(
                        release,
                        "AcmeOS",
                        CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "x"))),
                CrashFixtures.report(
                        release,
                        "AcmeOS",
                        CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag + "y"))));
        JsonPath page = awaitTop(release, p -> p.getList("items").size() == 2);
        String x = page.getString("items[0].id");
        String y = page.getString("items[1].id");

        Tokens.analyst()
                .contentType("application/json")
                .body(Map.of("into", y))
                .post("/api/v1/buckets/" + x + "/merge")
                .then()
                .statusCode(403)
                .body("status", equalTo(403));
        merge(x, x).statusCode(409).body("detail", containsString("itself"));
        merge(x, UUID.randomUUID().toString()).statusCode(404);
        merge(x, y).statusCode(200);
        merge(x, y).statusCode(409).body("detail", containsString("already merged"));
        merge(UUID.randomUUID().toString(), x).statusCode(404);
        Tokens.admin()
                .post("/api/v1/buckets/" + y + "/unmerge")
                .then()
                .statusCode(409)
                .body("detail", containsString("not merged"));
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("reason", "no target"))
                .post("/api/v1/buckets/" + x + "/merge")
                .then()
                .statusCode(400);
    }

    @Test
    void analystsWriteNotesAndValidatedLinksSignedWithTheirName() throws Exception {
        String release = "rel-" + UUID.randomUUID();
        String tag = "n" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        CrashFixtures.send(CrashFixtures.report(
                release, "AcmeOS", CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", tag))));
        String id = awaitTop(release, p -> p.getList("items").size() == 1).getString("items[0].id");

        Tokens.asAnalyst("nora@vendor.example")
                .contentType("application/json")
                .body(Map.of("text", "Seen only with the acme driver 2.3"))
                .post("/api/v1/buckets/" + id + "/notes")
                .then()
                .statusCode(201)
                .body("author", equalTo("nora@vendor.example"));
        Tokens.analyst()
                .contentType("application/json")
                .body(Map.of("url", "https://bugs.example.com/show_bug.cgi?id=4242", "title", "BZ 4242"))
                .post("/api/v1/buckets/" + id + "/links")
                .then()
                .statusCode(201)
                .body("url", equalTo("https://bugs.example.com/show_bug.cgi?id=4242"));
        for (String bad : new String[] {
            "javascript:alert(1)",
            "ftp://bugs.example.com/1",
            "https://user:pw@bugs.example.com/1",
            "not a url",
            "/relative/path",
            "https://bugs.example.com/" + "x".repeat(2048)
        }) {
            Tokens.analyst()
                    .contentType("application/json")
                    .body(Map.of("url", bad))
                    .post("/api/v1/buckets/" + id + "/links")
                    .then()
                    .statusCode(400)
                    .body("status", equalTo(400));
        }
        Tokens.analyst()
                .contentType("application/json")
                .body(Map.of("text", "x".repeat(4001)))
                .post("/api/v1/buckets/" + id + "/notes")
                .then()
                .statusCode(400)
                .body("detail", containsString("4000"));
        Tokens.analyst()
                .contentType("application/json")
                .body(Map.of("text", " "))
                .post("/api/v1/buckets/" + id + "/notes")
                .then()
                .statusCode(400);
        Tokens.analyst()
                .contentType("application/json")
                .body(Map.of("text", "lost"))
                .post("/api/v1/buckets/" + UUID.randomUUID() + "/notes")
                .then()
                .statusCode(404);
        given().contentType("application/json")
                .body(Map.of("text", "anonymous"))
                .post("/api/v1/buckets/" + id + "/notes")
                .then()
                .statusCode(401);

        JsonPath bucket = detail(id);
        assertThat(bucket.getList("notes")).hasSize(1);
        assertThat(bucket.getString("notes[0].text")).isEqualTo("Seen only with the acme driver 2.3");
        assertThat(bucket.getString("notes[0].author")).isEqualTo("nora@vendor.example");
        assertThat(bucket.getString("notes[0].createdAt")).isNotNull();
        assertThat(bucket.getList("links")).hasSize(1);
        assertThat(bucket.getString("links[0].text")).isEqualTo("BZ 4242");
        assertThat(bucket.getString("links[0].author")).isEqualTo("ana@vendor.example");
    }

    private static io.restassured.response.ValidatableResponse merge(String source, String into) {
        return Tokens.admin()
                .contentType("application/json")
                .body(Map.of("into", into))
                .post("/api/v1/buckets/" + source + "/merge")
                .then();
    }

    private static String idOf(JsonPath page, String function) {
        return page.getString("items.find { it.title.endsWith('" + function + "') }.id");
    }
}
