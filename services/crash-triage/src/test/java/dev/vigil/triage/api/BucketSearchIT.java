package dev.vigil.triage.api;

import static dev.vigil.triage.api.AnalystApi.reportsOnPage;
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
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/** Analysts find buckets by title text, function, module, bugcheck and release. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class BucketSearchIT {

    @Test
    void findsBucketsByTitleFunctionModuleBugcheckAndRelease() throws Exception {
        String tag = "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String release = "rel-" + UUID.randomUUID();
        long code = 0x7E000000L + ThreadLocalRandom.current().nextInt(1 << 20);
        String gpf = LinuxConsoleParserTest.GPF.replace("acme", tag);
        CrashFixtures.send(
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(gpf)),
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(gpf.replace("431.", "999."))),
                CrashFixtures.report("other-" + release, "WinThing", CrashFixtures.windowsDump(code)));
        String hex = String.format("0x%X", code);

        JsonPath byTitle = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> search("q", "PROTECTION FAULT IN " + tag),
                        p -> p.getList("items").size() == 1 && p.getInt("items[0].reports") == 2);
        assertThat(byTitle.getString("items[0].title")).isEqualTo("general protection fault in " + tag + "_list_del");
        assertThat(byTitle.getInt("items[0].reports")).isEqualTo(2);
        assertThat(byTitle.getList("items[0].functions", String.class))
                .containsExactly(tag + "_list_del", tag + "_flush_work", "process_one_work");
        assertThat(byTitle.getString("items[0].module")).isEqualTo(tag);
        String gpfBucket = byTitle.getString("items[0].id");

        assertThat(search("function", tag + "_flush_work").getList("items.id")).containsExactly(gpfBucket);
        assertThat(search("module", tag).getList("items.id")).containsExactly(gpfBucket);
        assertThat(search("release", release).getList("items.id")).containsExactly(gpfBucket);
        assertThat(search("function", tag + "_nothing").getList("items")).isEmpty();

        JsonPath byCode = await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> search("bugcheck", hex.toLowerCase()),
                        p -> p.getList("items").size() == 1);
        assertThat(byCode.getString("items[0].bugcheck")).isEqualTo(hex);
        assertThat(byCode.getString("items[0].title")).startsWith("BUGCHECK " + hex);
        assertThat(search("bugcheck", hex.substring(2)).getList("items.id"))
                .containsExactly(byCode.getString("items[0].id"));
        // Criteria combine: the Windows bucket is not in the Linux release.
        assertThat(Tokens.analyst()
                        .queryParam("bugcheck", hex)
                        .queryParam("release", release)
                        .get("/api/v1/buckets/search")
                        .then()
                        .statusCode(200)
                        .extract()
                        .jsonPath()
                        .getList("items"))
                .isEmpty();
    }

    @Test
    void pagesThroughResultsMostReportsFirst() throws Exception {
        String tag = "p" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String release = "rel-" + UUID.randomUUID();
        String big = LinuxConsoleParserTest.GPF.replace("acme", tag + "a");
        String small = LinuxConsoleParserTest.GPF.replace("acme", tag + "b");
        CrashFixtures.send(
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(big)),
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(big.replace("431.", "432."))),
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(small)));
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> reportsOnPage(search("release", release)) == 3);
        JsonPath first = Tokens.analyst()
                .queryParam("release", release)
                .queryParam("limit", 1)
                .get("/api/v1/buckets/search")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        JsonPath second = Tokens.analyst()
                .queryParam("release", release)
                .queryParam("limit", 1)
                .queryParam("offset", 1)
                .get("/api/v1/buckets/search")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(first.getString("items[0].title")).endsWith(tag + "a_list_del");
        assertThat(first.getInt("items[0].reports")).isEqualTo(2);
        assertThat(second.getString("items[0].title")).endsWith(tag + "b_list_del");
        assertThat(second.getInt("offset")).isEqualTo(1);
    }

    @Test
    void badPagingAndTermsAre400Problems() {
        for (String[] bad : new String[][] {
            {"limit", "0"},
            {"limit", "201"},
            {"limit", "ten"},
            {"offset", "-1"},
            {"offset", "10001"},
            {"bugcheck", "0xZZ"},
            {"q", "x".repeat(201)}
        }) {
            Tokens.analyst()
                    .queryParam(bad[0], bad[1])
                    .get("/api/v1/buckets/search")
                    .then()
                    .statusCode(400)
                    .body("status", equalTo(400))
                    .body("detail", containsString(bad[0].equals("q") ? "q" : bad[0]));
        }
    }

    private static JsonPath search(String name, String value) {
        return Tokens.analyst()
                .queryParam(name, value)
                .get("/api/v1/buckets/search")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }
}
