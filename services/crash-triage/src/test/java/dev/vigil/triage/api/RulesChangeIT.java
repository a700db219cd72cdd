package dev.vigil.triage.api;

import static dev.vigil.triage.api.AnalystApi.detail;
import static dev.vigil.triage.api.AnalystApi.reportsOnPage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.agroal.api.AgroalDataSource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * A new rules version comes into force while triage runs (its rules file changes): reports already filed are
 * signed again, and later reports land in their existing buckets, merges included, instead of new ones.
 */
@QuarkusTest
@TestProfile(RulesChangeIT.RulesFile.class)
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
class RulesChangeIT {

    @Inject
    AgroalDataSource db;

    /** Triage reads its rules from a file the test rewrites; it starts as the shipped rules. */
    public static final class RulesFile implements QuarkusTestProfile {

        static final Path FILE =
                Path.of("target", "rules-change-it", "rules.json").toAbsolutePath();

        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(FILE.getParent());
                Files.writeString(FILE, RulesDryRunIT.shipped().toString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return Map.of("vigil.triage.rules-file", FILE.toString());
        }
    }

    @Test
    void aNewRulesVersionFilesLaterReportsIntoTheBucketsOfTheReportsTheyMatch() throws Exception {
        String x = "x" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String y = "y" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String z = "z" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        String release = "rel-" + UUID.randomUUID();
        CrashReported x1 = report(release, x, "431.");
        CrashFixtures.send(x1, report(release, x, "432."), report(release, y, "431."));
        int v = RulesDryRunIT.shipped().get("version").asInt();
        JsonPath v1 = awaitTop(release, p -> reportsOnPage(p) == 3);
        String bucketX = idOf(v1, x);
        String bucketY = idOf(v1, y);
        assertThat(detail(bucketX).getString("symbolicKey")).startsWith("s" + v + "-");
        // An analyst's merge under the shipped version.
        Tokens.admin()
                .contentType("application/json")
                .body(Map.of("into", bucketX, "reason", "same list corruption"))
                .post("/api/v1/buckets/" + bucketY + "/merge")
                .then()
                .statusCode(200);

        // The next version skips x's blamed function: x's reports sign to another text, and every key changes anyway.
        ObjectNode v2 = RulesDryRunIT.shipped();
        v2.put("version", v + 1);
        ((ArrayNode) v2.get("skipFrames")).add(x + "_list_del");
        Path file = Path.of(ConfigProvider.getConfig().getValue("vigil.triage.rules-file", String.class));
        write(file, v2.toString());

        CrashReported x3 = report(release, x, "433.");
        CrashReported y2 = report(release, y, "433.");
        CrashReported z1 = report(release, z, "431.");
        CrashFixtures.send(x3, y2, z1);
        JsonPath after = awaitTop(release, p -> reportsOnPage(p) == 6);

        // x's and y's reports are all in x's bucket (y's by its merge); only z, a new signature, made a bucket.
        assertThat(after.getList("items")).hasSize(2);
        assertThat(after.getInt("items.find { it.id == '" + bucketX + "' }.reports"))
                .isEqualTo(5);
        JsonPath xDetail = detail(bucketX);
        assertThat(xDetail.getList("latest.incidentId", String.class)).contains(x3.getIncidentId(), y2.getIncidentId());
        assertThat(xDetail.getList("keys.rulesVersion", Integer.class)).containsExactly(v, v + 1);
        assertThat(xDetail.getString("keys.find { it.rulesVersion == " + (v + 1) + " }.symbolicKey"))
                .startsWith("s" + (v + 1) + "-");
        assertThat(detail(bucketY).getList("keys.rulesVersion", Integer.class)).containsExactly(v, v + 1);
        String bucketZ = after.getString("items.find { it.id != '" + bucketX + "' }.id");
        JsonPath zDetail = detail(bucketZ);
        assertThat(zDetail.getString("title")).endsWith(z + "_list_del");
        assertThat(zDetail.getInt("rulesVersion")).isEqualTo(v + 1);
        assertThat(zDetail.getList("keys.rulesVersion", Integer.class)).containsExactly(v + 1);

        // Every report of x has its keys under both versions; the later one under version 2 only.
        assertThat(versions(x1.getIncidentId())).containsExactly(v, v + 1);
        assertThat(versions(x3.getIncidentId())).containsExactly(v + 1);

        // y's later report belongs to y's bucket: unmerging brings it back there.
        Tokens.admin().post("/api/v1/buckets/" + bucketY + "/unmerge").then().statusCode(200);
        await().atMost(Duration.ofSeconds(10))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> detail(bucketY).getInt("reports") == 2);
        assertThat(detail(bucketY).getList("latest.incidentId", String.class)).contains(y2.getIncidentId());
        assertThat(detail(bucketX).getInt("reports")).isEqualTo(3);

        // The same version edited without a bump would sign y's reports to keys no bucket has: refused, and the
        // report waits on the dead-letter topic with the reason instead of opening a second bucket for y.
        ObjectNode edited = v2.deepCopy();
        ((ArrayNode) edited.get("skipFrames")).add(y + "_list_del");
        write(file, edited.toString());
        CrashReported y3 = report(release, y, "434.");
        CrashFixtures.send(y3);
        var refused = CrashFixtures.deadLetter(
                r -> CrashFixtures.header(r, "vigil_dlq_detail").contains(y3.getIncidentId()));
        assertThat(CrashFixtures.header(refused, "vigil_dlq_reason")).isEqualTo("PROCESSING_FAILED");
        assertThat(CrashFixtures.header(refused, "vigil_dlq_detail"))
                .contains("signature rules version " + (v + 1) + " was applied with content sha256");
        assertThat(awaitTop(release, p -> true).getList("items")).hasSize(3);
        assertThat(detail(bucketY).getInt("reports")).isEqualTo(2);
    }

    private List<Integer> versions(String incident) throws Exception {
        try (Connection c = db.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "SELECT rules_version FROM report_key WHERE incident_id = ? ORDER BY rules_version")) {
            s.setString(1, incident);
            List<Integer> versions = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    versions.add(rs.getInt(1));
                }
            }
            return versions;
        }
    }

    private static void write(Path file, String rules) {
        try {
            FileTime before = Files.getLastModifiedTime(file);
            Files.writeString(file, rules);
            // A coarse file system clock could leave the time as it was: the change must be seen.
            Files.setLastModifiedTime(file, FileTime.from(before.toInstant().plusSeconds(2)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CrashReported report(String release, String tag, String time) throws Exception {
        return CrashFixtures.report(
                release,
                "AcmeOS",
                CrashFixtures.console(
                        LinuxConsoleParserTest.GPF.replace("acme", tag).replace("431.", time)));
    }

    private static JsonPath awaitTop(String release, java.util.function.Predicate<JsonPath> done) {
        return await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(300))
                .until(
                        () -> Tokens.analyst()
                                .queryParam("release", release)
                                .queryParam(
                                        "from",
                                        Instant.now().minus(Duration.ofDays(1)).toString())
                                .get("/api/v1/buckets")
                                .then()
                                .statusCode(200)
                                .extract()
                                .jsonPath(),
                        done);
    }

    private static String idOf(JsonPath page, String tag) {
        return page.getString("items.find { it.title.endsWith('" + tag + "_list_del') }.id");
    }
}
