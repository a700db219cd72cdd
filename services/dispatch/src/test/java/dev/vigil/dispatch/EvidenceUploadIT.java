package dev.vigil.dispatch;

import static dev.vigil.dispatch.ArtifactsBucket.exists;
import static dev.vigil.dispatch.ArtifactsBucket.keys;
import static dev.vigil.dispatch.ArtifactsBucket.random;
import static dev.vigil.dispatch.ArtifactsBucket.sha256;
import static dev.vigil.dispatch.ArtifactsBucket.stored;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.agent.feedback.FeedbackCommand;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.schemas.ObjectKeys;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;

/**
 * Agents store evidence through links dispatch signs, with no object store credentials of their own (ADR 0007): a link
 * writes one object under the asking host's prefix and nothing else, large objects go in parts that resume from what
 * the store holds, and the store itself refuses a link bent to another key or used to read.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class EvidenceUploadIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void anEnrolledHostStoresEvidenceThroughALinkUnderItsOwnPrefixOnce() throws Exception {
        String host = "uploader-" + UUID.randomUUID();
        String token = Enrolments.hostToken(host);
        byte[] bytes = random(300_000, 1);
        String sha = sha256(bytes);

        JsonPath plan = plan(token, sha, bytes.length, null)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        String key = ObjectKeys.evidence("acme", host, sha);
        assertThat(plan.getString("key")).isEqualTo(key);
        assertThat(plan.getBoolean("stored")).isFalse();
        assertThat(plan.getString("bucket")).isEqualTo(DevstackConfig.ARTIFACTS_BUCKET);
        // The link carries its own signature: no credential of the store's, and not the host token either.
        assertThat(put(plan.getString("url"), bytes).statusCode()).isEqualTo(200);

        assertThat(stored(key)).isEqualTo(bytes);
        JsonPath again = plan(token, sha, bytes.length, null)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(again.getBoolean("stored")).isTrue();
        assertThat(again.getString("url")).isNull();
        assertThat(io.restassured.RestAssured.get("/q/metrics").asString())
                .containsPattern("vigil_dispatch_uploads_planned_total\\{[^}]*answer=\"put\"[^}]*} [1-9]")
                .containsPattern("vigil_dispatch_uploads_planned_total\\{[^}]*answer=\"stored\"[^}]*} [1-9]");
    }

    @Test
    void aLinkWritesOnlyTheObjectItWasSignedForAndReadsNothing() throws Exception {
        String host = "bender-" + UUID.randomUUID();
        String victim = "victim-" + UUID.randomUUID();
        String token = Enrolments.hostToken(host);
        byte[] bytes = random(1000, 2);
        String sha = sha256(bytes);
        String url = plan(token, sha, bytes.length, null)
                .then()
                .statusCode(200)
                .extract()
                .path("url");

        String otherKey = ObjectKeys.evidence("acme", victim, sha);
        String bent = url.replace(ObjectKeys.hostPrefix("acme", host), ObjectKeys.hostPrefix("acme", victim));
        assertThat(bent).isNotEqualTo(url);
        HttpResponse<String> refused = put(bent, bytes);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("SignatureDoesNotMatch");
        assertThat(exists(otherKey)).isFalse();

        assertThat(put(url, bytes).statusCode()).isEqualTo(200);
        HttpResponse<String> read =
                HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(read.statusCode()).as("an upload link does not read").isEqualTo(403);
    }

    @Test
    void largeEvidenceGoesInPartsAndResumesFromThePartsTheStoreHolds() throws Exception {
        String host = "dumper-" + UUID.randomUUID();
        String token = Enrolments.hostToken(host);
        byte[] bytes = random(16 * 1024 * 1024 * 2 + 5_000, 3);
        String sha = sha256(bytes);

        JsonPath first = plan(token, sha, bytes.length, null)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        String uploadId = first.getString("uploadId");
        assertThat(uploadId).isNotBlank();
        assertThat(first.getLong("partBytes")).isEqualTo(16L << 20);
        assertThat(first.getList("parts.size", Long.class)).containsExactly(16L << 20, 16L << 20, 5_000L);
        // The agent sends the first part, then stops (a restart, a lost connection).
        HttpResponse<String> part1 = put(first.getString("parts[0].url"), Arrays.copyOfRange(bytes, 0, 16 << 20));
        assertThat(part1.statusCode()).isEqualTo(200);
        String etag1 = part1.headers().firstValue("ETag").orElseThrow();

        JsonPath resumed = plan(token, sha, bytes.length, uploadId)
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        assertThat(resumed.getString("uploadId")).isEqualTo(uploadId);
        assertThat(resumed.getString("parts[1].etag"))
                .as("part 2 is not stored yet")
                .isNull();
        assertThat(resumed.getString("parts[0].etag").replace("\"", "")).isEqualTo(etag1.replace("\"", ""));
        List<Map<String, Object>> sent = new ArrayList<>();
        sent.add(Map.of("number", 1, "etag", resumed.getString("parts[0].etag")));
        for (int number = 2; number <= 3; number++) {
            int from = (number - 1) * (16 << 20);
            byte[] part = Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + (16 << 20)));
            HttpResponse<String> answer = put(resumed.getString("parts[" + (number - 1) + "].url"), part);
            assertThat(answer.statusCode()).isEqualTo(200);
            sent.add(Map.of(
                    "number",
                    number,
                    "etag",
                    answer.headers().firstValue("ETag").orElseThrow()));
        }
        List<Map<String, Object>> wrong = new ArrayList<>(sent);
        wrong.set(1, Map.of("number", 2, "etag", "\"00000000000000000000000000000000\""));
        complete(token, sha, uploadId, wrong).then().statusCode(422).contentType("application/problem+json");

        complete(token, sha, uploadId, sent)
                .then()
                .statusCode(200)
                .body("key", org.hamcrest.Matchers.equalTo(ObjectKeys.evidence("acme", host, sha)))
                .body("size", org.hamcrest.Matchers.equalTo(bytes.length));
        assertThat(stored(ObjectKeys.evidence("acme", host, sha))).isEqualTo(bytes);
    }

    @Test
    void anEnrolledAgentWithNoStoreCredentialsStoresAUsersScreenshotUnderItsPrefix() throws Exception {
        String product = Vendor.product();
        Vendor.publish(product, "1.0", Images.raw(dir, "master.raw", 61, 1024 * 1024));
        AgentHost host = AgentHost.onTestHypervisor(dir.resolve("state")).with("VIGIL_AGENT_EVIDENCE_UPLOAD", "links");
        // The test hypervisor's state lives while a connection to it is open.
        Connect hypervisor = new Connect("test:///default");
        try {
            Installer.Installation installed =
                    host.enroll(Enrolments.enrol(Enrolments.program(product, "beta"), "Mary Somerville"), hypervisor);
            AgentConfig config = host.config();
            assertThat(config.capture().uploadLinks()).isTrue();
            assertThat(config.capture().s3Endpoint()).isNull();
            assertThat(config.capture().s3AccessKey()).isNull();

            try (RunningAgent agent = RunningAgent.start(host.id, host.state, host.settings())) {
                FeedbackCommand.run(
                        new String[] {"--vm", installed.vmName(), "the installer stalls at 40%", "--screenshot"},
                        config,
                        "test");
                String prefix = ObjectKeys.hostPrefix("acme", host.id);
                List<String> keys = await().atMost(Duration.ofSeconds(60)).until(() -> keys(prefix), k -> !k.isEmpty());
                assertThat(keys).hasSize(1);
                byte[] png = stored(keys.get(0));
                assertThat(png).startsWith(0x89, 'P', 'N', 'G');
                assertThat(keys.get(0)).isEqualTo(ObjectKeys.evidence("acme", host.id, sha256(png)));
            }
            hypervisor.domainLookupByUUIDString(installed.vmUuid()).destroy();
            hypervisor.domainLookupByUUIDString(installed.vmUuid()).undefine();
        } finally {
            hypervisor.close();
        }
    }

    @Test
    void aPlanForSomethingThatIsNotAnObjectIsAProblem() {
        String token = Enrolments.hostToken("odd-" + UUID.randomUUID());
        plan(token, "not-a-hash" + "x".repeat(3000), 10, null)
                .then()
                .statusCode(400)
                .contentType("application/problem+json")
                .body("title", org.hamcrest.Matchers.equalTo("Bad hash"))
                .body("detail.length()", org.hamcrest.Matchers.lessThan(300));
        plan(token, "ab".repeat(32), 0, null)
                .then()
                .statusCode(400)
                .body("title", org.hamcrest.Matchers.equalTo("Bad size"));
        plan(token, "ab".repeat(32), 1L << 40, null).then().statusCode(400);
        complete(token, "ab".repeat(32), "no-such-upload", List.of(Map.of("number", 1, "etag", "x")))
                .then()
                .statusCode(404)
                .contentType("application/problem+json");
        Staff.admin()
                .contentType("application/json")
                .body(Map.of("sha256", "ab".repeat(32), "size", 10))
                .post("/api/v1/agent/uploads")
                .then()
                .statusCode(403);
    }

    private static Response plan(String token, String sha, long size, String uploadId) {
        Map<String, Object> body = new java.util.HashMap<>(Map.of("sha256", sha, "size", size));
        if (uploadId != null) {
            body.put("uploadId", uploadId);
        }
        return Enrolments.asHost(token)
                .contentType("application/json")
                .body(body)
                .post("/api/v1/agent/uploads");
    }

    private static Response complete(String token, String sha, String uploadId, List<Map<String, Object>> parts) {
        return Enrolments.asHost(token)
                .contentType("application/json")
                .body(Map.of("sha256", sha, "uploadId", uploadId, "parts", parts))
                .post("/api/v1/agent/uploads/complete");
    }

    private static HttpResponse<String> put(String url, byte[] bytes) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
