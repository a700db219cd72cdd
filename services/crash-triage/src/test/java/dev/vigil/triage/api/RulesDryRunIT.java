package dev.vigil.triage.api;

import static dev.vigil.triage.api.AnalystApi.detail;
import static dev.vigil.triage.api.AnalystApi.reportsOnPage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import dev.vigil.triage.signature.SignatureRules;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Admins dry-run candidate rules over the reports stored on the devstack; nothing changes. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class RulesDryRunIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aCandidateThatSkipsOneFunctionMovesExactlyTheReportsThatBlameItAndChangesNothing() throws Exception {
        String tag = "k" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String other = "o" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String release = "rel-" + UUID.randomUUID();
        String text = LinuxConsoleParserTest.GPF.replace("acme", tag);
        CrashReported one = CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(text));
        CrashReported two =
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.console(text.replace("431.", "432.")));
        CrashFixtures.send(
                one,
                two,
                CrashFixtures.report(
                        release, "AcmeOS", CrashFixtures.console(LinuxConsoleParserTest.GPF.replace("acme", other))));
        JsonPath page = AnalystApi.awaitTop(release, p -> p.getList("items").size() == 2 && reportsOnPage(p) == 3);
        String bucket = page.getString("items.find { it.title.endsWith('" + tag + "_list_del') }.id");
        JsonPath before = detail(bucket);

        // The rules in force move nothing, and every stored report signs to its stored key from its stored facts.
        JsonPath same = dryRun(shipped().toString(), Map.of("limit", 50_000));
        assertThat(same.getInt("moved")).isZero();
        assertThat(same.getInt("mismatched")).isZero();
        assertThat(same.getInt("unsignable")).isZero();
        assertThat(same.getBoolean("truncated")).isFalse();
        assertThat(same.getInt("scanned")).isGreaterThanOrEqualTo(3);

        ObjectNode candidate = shipped();
        int v = candidate.get("version").asInt();
        candidate.put("version", v + 1);
        ((ArrayNode) candidate.get("skipFrames")).add(tag + "_list_del");
        JsonPath run = dryRun(candidate.toString(), Map.of("limit", 50_000));
        assertThat(run.getInt("currentVersion")).isEqualTo(v);
        assertThat(run.getInt("candidateVersion")).isEqualTo(v + 1);
        assertThat(run.getInt("moved")).isEqualTo(2);
        assertThat(run.getList("moves")).hasSize(1);
        assertThat(run.getString("moves[0].fromBucket")).isEqualTo(bucket);
        assertThat(run.getString("moves[0].fromTitle")).isEqualTo("general protection fault in " + tag + "_list_del");
        assertThat(run.getInt("moves[0].reports")).isEqualTo(2);
        assertThat(run.getString("moves[0].toKey")).startsWith("s" + (v + 1) + "-");
        assertThat(run.getString("moves[0].toSymbolic")).doesNotContain(tag + "_list_del");
        assertThat(run.getList("moves[0].sample", String.class))
                .containsExactlyInAnyOrder(one.getIncidentId(), two.getIncidentId());

        // Nothing changed: same reports, same single key.
        JsonPath after = detail(bucket);
        assertThat(after.getInt("reports")).isEqualTo(before.getInt("reports"));
        assertThat(after.getList("keys")).isEqualTo(before.getList("keys"));
        assertThat(after.getList("keys.rulesVersion", Integer.class)).containsExactly(v);
    }

    @Test
    void aDryRunIsBoundedAndPagesOn() throws Exception {
        CrashFixtures.send(
                CrashFixtures.report(
                        "rel-" + UUID.randomUUID(), "AcmeOS", CrashFixtures.console(LinuxConsoleParserTest.GPF)),
                CrashFixtures.report(
                        "rel-" + UUID.randomUUID(), "AcmeOS", CrashFixtures.console(LinuxConsoleParserTest.GPF)));
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(300))
                .until(() ->
                        dryRun(shipped().toString(), Map.of("limit", 50_000)).getInt("scanned") >= 2);

        JsonPath first = dryRun(shipped().toString(), Map.of("limit", 1));
        assertThat(first.getInt("scanned")).isEqualTo(1);
        assertThat(first.getBoolean("truncated")).isTrue();
        String next = first.getString("next");
        assertThat(next).isNotNull();
        JsonPath second = dryRun(shipped().toString(), Map.of("limit", 1, "after", next));
        assertThat(second.getInt("scanned")).isEqualTo(1);
        assertThat(second.getString("next")).isNotNull().isGreaterThan(next);
    }

    @Test
    void onlyAdminsDryRunAndOnlyValidBoundedRules() throws Exception {
        String path = "/api/v1/rules/dry-run";
        Tokens.analyst()
                .contentType("application/json")
                .body(shipped().toString())
                .post(path)
                .then()
                .statusCode(403);
        Tokens.admin()
                .contentType("application/json")
                .body("{\"version\": 2, ")
                .post(path)
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad rules"))
                .body("detail", containsString("not JSON"));
        ObjectNode badRegex = shipped();
        ((ArrayNode) badRegex.get("skipFrames")).add("acme_(");
        Tokens.admin()
                .contentType("application/json")
                .body(badRegex.toString())
                .post(path)
                .then()
                .statusCode(400)
                .body(
                        "detail",
                        containsString(
                                "skipFrames[" + (badRegex.get("skipFrames").size() - 1) + "]"));
        ObjectNode noVersion = shipped();
        noVersion.remove("version");
        Tokens.admin()
                .contentType("application/json")
                .body(noVersion.toString())
                .post(path)
                .then()
                .statusCode(400)
                .body("detail", containsString("version"));
        ObjectNode huge = shipped();
        ArrayNode skip = (ArrayNode) huge.get("skipFrames");
        for (int i = 0; i < 9000; i++) {
            skip.add("padding_function_number_" + i + "_.*");
        }
        assertThat(huge.toString().length()).isGreaterThan(SignatureRules.MAX_BYTES);
        Tokens.admin()
                .contentType("application/json")
                .body(huge.toString())
                .post(path)
                .then()
                .statusCode(413);
        Tokens.admin()
                .contentType("application/json")
                .queryParam("limit", 50_001)
                .body(shipped().toString())
                .post(path)
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad limit"));
    }

    private static JsonPath dryRun(String rules, Map<String, ?> params) {
        return Tokens.admin()
                .contentType("application/json")
                .queryParams(params)
                .body(rules)
                .post("/api/v1/rules/dry-run")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
    }

    static ObjectNode shipped() throws Exception {
        try (InputStream in = SignatureRules.class.getResourceAsStream("rules.json")) {
            return (ObjectNode) JSON.readTree(in);
        }
    }
}
