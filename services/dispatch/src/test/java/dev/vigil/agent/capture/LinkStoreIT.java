package dev.vigil.agent.capture;

import static dev.vigil.dispatch.ArtifactsBucket.random;
import static dev.vigil.dispatch.ArtifactsBucket.sha256;
import static dev.vigil.dispatch.ArtifactsBucket.stored;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.agent.delivery.DispatchConnection;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.dispatch.Enrolments;
import dev.vigil.dispatch.TestKeys;
import dev.vigil.schemas.ObjectKeys;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's side of upload links against a real dispatch and object store: the agent holds a host token and no
 * store credentials, stores a small object in one {@code PUT}, finds it stored the second time, and resumes a large
 * one from the parts the store holds.
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(TestKeys.class)
class LinkStoreIT {

    @TempDir
    Path dir;

    @Test
    void aSmallObjectIsStoredOnceUnderTheHostsPrefix() throws Exception {
        String host = "links-" + UUID.randomUUID();
        LinkStore store = store(Enrolments.hostToken(host));
        byte[] bytes = random(200_000, 7);
        Path file = Files.write(dir.resolve("console.txt"), bytes);
        String key = ObjectKeys.evidence("acme", host, sha256(bytes));

        EvidenceStore.Stored first = store.put(file, key, sha256(bytes), "text/plain", dir.resolve("state"));
        assertThat(first.known()).isFalse();
        assertThat(first.sentBytes()).isEqualTo(bytes.length);
        assertThat(first.bucket()).isEqualTo(DevstackConfig.ARTIFACTS_BUCKET);
        assertThat(stored(key)).isEqualTo(bytes);

        EvidenceStore.Stored again = store.put(file, key, sha256(bytes), "text/plain", dir.resolve("state"));
        assertThat(again.known()).isTrue();
        assertThat(again.sentBytes()).isZero();
    }

    @Test
    void aLargeObjectResumesFromThePartsTheStoreHoldsAndSendsOnlyTheRest() throws Exception {
        String host = "dump-" + UUID.randomUUID();
        String token = Enrolments.hostToken(host);
        byte[] bytes = random((16 << 20) * 2 + 5_000, 8);
        String sha = sha256(bytes);
        Path file = Files.write(dir.resolve("memory.dump"), bytes);
        String key = ObjectKeys.evidence("acme", host, sha);
        // An earlier attempt opened the upload and stored part 1 before the agent stopped.
        var plan = Enrolments.asHost(token)
                .contentType("application/json")
                .body(Map.of("sha256", sha, "size", bytes.length))
                .post("/api/v1/agent/uploads")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath();
        HttpResponse<String> part1 = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(plan.getString("parts[0].url")))
                                .PUT(HttpRequest.BodyPublishers.ofByteArray(Arrays.copyOfRange(bytes, 0, 16 << 20)))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(part1.statusCode()).isEqualTo(200);
        Path state = dir.resolve("memory.upload");
        Files.writeString(state, key + "\n" + plan.getString("uploadId"));

        EvidenceStore.Stored stored = store(token).put(file, key, sha, "application/octet-stream", state);

        assertThat(stored.known()).isFalse();
        assertThat(stored.sentBytes()).isEqualTo((16 << 20) + 5_000);
        assertThat(state).doesNotExist();
        assertThat(sha256(stored(key))).isEqualTo(sha);
    }

    @Test
    void anUploadTheStoreForgotStartsOverInsteadOfRetryingForever() throws Exception {
        String host = "forgot-" + UUID.randomUUID();
        byte[] bytes = random((16 << 20) + 1_000, 10);
        String sha = sha256(bytes);
        Path file = Files.write(dir.resolve("big.dump"), bytes);
        String key = ObjectKeys.evidence("acme", host, sha);
        // An attempt before a long outage began an upload that the store has since aborted (or never had).
        Path state = dir.resolve("big.upload");
        Files.writeString(state, key + "\n" + "forgotten-" + UUID.randomUUID());

        EvidenceStore.Stored stored =
                store(Enrolments.hostToken(host)).put(file, key, sha, "application/octet-stream", state);

        assertThat(stored.sentBytes()).isEqualTo(bytes.length);
        assertThat(state).doesNotExist();
        assertThat(sha256(stored(key))).isEqualTo(sha);
    }

    @Test
    void aKeyThatIsNotTheEnrolledHostsIsRefusedBeforeAnythingIsSent() throws Exception {
        String host = "named-" + UUID.randomUUID();
        byte[] bytes = random(100, 9);
        Path file = Files.write(dir.resolve("x"), bytes);
        // The agent's settings name another host than the one it enrolled as.
        String key = ObjectKeys.evidence("acme", "someone-else", sha256(bytes));
        assertThatThrownBy(() ->
                        store(Enrolments.hostToken(host)).put(file, key, sha256(bytes), "text/plain", dir.resolve("s")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("differ from those it enrolled with");
        assertThatThrownBy(() -> store(() -> {
                            throw new IOException("evidence waits for this host's enrolment");
                        })
                        .put(file, key, sha256(bytes), "text/plain", dir.resolve("s")))
                .hasMessageContaining("waits for this host's enrolment");
    }

    private static LinkStore store(String token) {
        return store(() -> token);
    }

    private static LinkStore store(LinkStore.HostToken token) {
        return new LinkStore(
                new DispatchConnection("http://localhost:" + RestAssured.port, null, Duration.ofMillis(100)), token);
    }
}
