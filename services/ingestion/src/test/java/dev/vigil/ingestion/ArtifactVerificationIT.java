package dev.vigil.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.StaffTokenResource;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

/** Each manifest's object is checked in the devstack's S3: present and intact, corrupt, or missing. */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
@QuarkusTestResource(StaffTokenResource.class)
class ArtifactVerificationIT {

    private static final String BUCKET = "vigil-artifacts";
    private static final String HOST = "verify-host";
    private final Endpoints endpoints = Devstack.shared().endpoints();
    private final String vm = UUID.randomUUID().toString();

    @Test
    void marksEachManifestVerifiedCorruptOrMissingAndSaysWhy() throws Exception {
        byte[] blob = new byte[300_000];
        new Random(7).nextBytes(blob);
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
        String key = ObjectKeys.evidence("acme", HOST, sha);
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        s3.putObject(PutObjectArgs.builder().bucket(BUCKET).object(key).stream(
                        new ByteArrayInputStream(blob), (long) blob.length, -1L)
                .build());

        ArtifactManifest good = manifest(key, sha, blob.length);
        ArtifactManifest wrongHash = manifest(key, "00".repeat(32), blob.length);
        ArtifactManifest wrongSize = manifest(key, sha, blob.length + 1);
        ArtifactManifest missing = manifest(ObjectKeys.evidence("acme", HOST, "ff".repeat(32)), "ff".repeat(32), 10);
        try (KafkaProducer<byte[], byte[]> producer = producer()) {
            for (ArtifactManifest m : new ArtifactManifest[] {good, wrongHash, wrongSize, missing}) {
                producer.send(new ProducerRecord<>(
                                TopicCatalog.AGENT_ARTIFACTS.name(),
                                vm.getBytes(StandardCharsets.UTF_8),
                                EventCodec.of(ArtifactManifest.class).encode(m)))
                        .get();
            }
        }

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            JsonPath page = Staff.analyst()
                    .get("/api/v1/vms/{id}/artifacts", vm)
                    .then()
                    .statusCode(200)
                    .extract()
                    .jsonPath();
            assertThat(page.getList("items.status")).hasSize(4).doesNotContain("UNVERIFIED");
        });
        JsonPath page = Staff.analyst()
                .get("/api/v1/vms/{id}/artifacts", vm)
                .then()
                .extract()
                .jsonPath();
        assertThat(status(page, good)).isEqualTo("VERIFIED");
        assertThat(status(page, wrongHash)).isEqualTo("CORRUPT");
        assertThat(detail(page, wrongHash)).contains("sha256 " + sha);
        assertThat(status(page, wrongSize)).isEqualTo("CORRUPT");
        assertThat(detail(page, wrongSize)).contains("size 300000 bytes");
        assertThat(status(page, missing)).isEqualTo("MISSING");
        assertThat(detail(page, missing)).contains("no object " + ObjectKeys.hostPrefix("acme", HOST) + "sha256/ff/");
    }

    private static String status(JsonPath page, ArtifactManifest m) {
        return page.getString("items.find { it.eventId == '" + m.getEnvelope().getEventId() + "' }.status");
    }

    private static String detail(JsonPath page, ArtifactManifest m) {
        return page.getString("items.find { it.eventId == '" + m.getEnvelope().getEventId() + "' }.statusDetail");
    }

    private ArtifactManifest manifest(String key, String sha256, long size) {
        Source source = Source.newBuilder()
                .setHostId(HOST)
                .setAgentId(HOST + "-agent")
                .setAgentVersion("0.1.0")
                .build();
        return ArtifactManifest.newBuilder()
                .setEnvelope(Envelopes.create(
                        ArtifactManifest.class, ArtifactManifest.getClassSchema(), source, "acme", Instant.now()))
                .setVm(VmRef.newBuilder().setUuid(vm).setName("vm-verify").build())
                .setIncidentId(null)
                .setKind(ArtifactKind.MEMORY_DUMP)
                .setBucket(BUCKET)
                .setObjectKey(key)
                .setSha256(sha256)
                .setSizeBytes(size)
                .setFormat("elf")
                .setEncryption(null)
                .build();
    }

    private KafkaProducer<byte[], byte[]> producer() {
        return endpoints.agentProducer();
    }
}
