package dev.vigil.triage.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.triage.evidence.LinuxConsoleParserTest;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Evidence the agent encrypted, read by an analyst: its stored bytes are ciphertext, so the bucket view offers no
 * store link for it, and triage serves it decrypted with the key its manifest names; evidence sealed with a key
 * triage does not hold is refused with a problem that says so.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(JwtKeys.class)
@QuarkusTestResource(EvidenceKey.class)
class EncryptedEvidenceIT {

    @Test
    void anAnalystReadsEncryptedEvidenceDecryptedAndNeverTheCiphertext() throws Exception {
        byte[] console = LinuxConsoleParserTest.SYSRQ_PANIC.getBytes(StandardCharsets.UTF_8);
        String release = "rel-" + UUID.randomUUID();
        CrashReported report =
                CrashFixtures.report(release, "AcmeOS", CrashFixtures.sealedConsole(console, EvidenceKey.held()));
        CrashFixtures.send(report);

        JsonPath top =
                AnalystApi.awaitTop(release, page -> page.getList("items").size() == 1);
        // Triage read the sealed console text to bucket it.
        assertThat(top.getString("items[0].title")).isEqualTo("kernel panic: sysrq triggered crash");
        JsonPath detail = AnalystApi.detail(top.getString("items[0].id"));
        assertThat(detail.getBoolean("latest[0].artifacts[0].encrypted")).isTrue();
        assertThat(detail.getString("latest[0].artifacts[0].url")).isNull();
        String content = detail.getString("latest[0].artifacts[0].content");
        assertThat(content).isEqualTo("/api/v1/reports/" + report.getIncidentId() + "/artifacts/CONSOLE_TEXT");

        byte[] served = Tokens.analyst()
                .get(content)
                .then()
                .statusCode(200)
                .header("X-Vigil-Decrypted", "true")
                .header("Content-Disposition", "attachment; filename=\"console_text.txt\"")
                .extract()
                .asByteArray();
        assertThat(served).isEqualTo(console);
    }

    @Test
    void evidenceSealedWithAKeyTriageDoesNotHoldIsAProblemNotCiphertext() throws Exception {
        byte[] other = new byte[32];
        new SecureRandom().nextBytes(other);
        String release = "rel-" + UUID.randomUUID();
        CrashReported report = CrashFixtures.report(
                release,
                "AcmeOS",
                CrashFixtures.sealedConsole("Kernel panic - not syncing: x\n".getBytes(StandardCharsets.UTF_8), other));
        CrashFixtures.send(report);
        AnalystApi.awaitTop(release, page -> page.getList("items").size() == 1);

        Tokens.analyst()
                .get("/api/v1/reports/" + report.getIncidentId() + "/artifacts/CONSOLE_TEXT")
                .then()
                .statusCode(409)
                .contentType("application/problem+json")
                .body("title", equalTo("Key not held"));
        Tokens.analyst()
                .get("/api/v1/reports/" + report.getIncidentId() + "/artifacts/MEMORY_DUMP")
                .then()
                .statusCode(404)
                .body("title", equalTo("No such evidence"));
        Tokens.analyst()
                .get("/api/v1/reports/no-such-incident/artifacts/CONSOLE_TEXT")
                .then()
                .statusCode(404)
                .body("title", equalTo("No such report"));
        Tokens.analyst()
                .get("/api/v1/reports/" + report.getIncidentId() + "/artifacts/console")
                .then()
                .statusCode(400)
                .body("title", equalTo("Bad kind"));
    }
}
