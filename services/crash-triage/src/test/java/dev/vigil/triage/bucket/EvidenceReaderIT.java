package dev.vigil.triage.bucket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.IncidentTrigger;
import dev.vigil.triage.api.CrashFixtures;
import dev.vigil.triage.signature.SignatureRules;
import dev.vigil.triage.signature.Signatures;
import io.minio.MinioClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Evidence that is not in the store is passed over for good, but a store that cannot be reached is not final: the
 * report must not be filed into the coarse bucket of what the hypervisor alone saw. (A Quarkus test only to share the
 * devstack of the other tests in this JVM.)
 */
@QuarkusTest
@QuarkusTestResource(DevstackTestResource.class)
class EvidenceReaderIT {

    private final Signatures signatures = new Signatures(SignatureRules.current());

    @Test
    void anUnreachableStoreIsRetriedNotFiledWithoutTheEvidence() throws Exception {
        int port = Ports.free();
        EvidenceReader reader = reader("http://127.0.0.1:" + port);

        assertThatThrownBy(() -> reader.read(reportWithConsole(), signatures))
                .isInstanceOf(EvidenceUnavailableException.class)
                .hasMessageContaining("CONSOLE_TEXT cannot be read just now");
    }

    @Test
    void evidenceTheStoreDoesNotHaveIsPassedOver() throws Exception {
        Evidence read = reader(Devstack.shared().endpoints().s3Endpoint()).read(reportWithConsole(), signatures);

        assertThat(read.kind()).isEqualTo("hypervisor");
        assertThat(read.signature().title()).isEqualTo("crash with no readable evidence (AcmeOS)");
    }

    /**
     * Console text the agent sealed with its evidence key: before, triage passed it over and the crash landed in the
     * coarse bucket of what the hypervisor saw; holding the key the manifest names, it reads the kernel's report.
     */
    @Test
    void evidenceSealedByTheAgentIsReadWithTheKeyItsManifestNames() throws Exception {
        byte[] console =
                Files.readAllBytes(Path.of("src/test/resources/corpus/linux/004-page-fault-fuse_file_get.txt"));
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        ArtifactRef sealed = CrashFixtures.sealedConsole(console, key);
        ArtifactRef open = CrashFixtures.store(console, ArtifactKind.CONSOLE_TEXT, "text/plain");
        String s3 = Devstack.shared().endpoints().s3Endpoint();
        String rotated = Base64.getEncoder().encodeToString(new byte[32]);

        Evidence withKey = reader(s3, List.of(rotated, Base64.getEncoder().encodeToString(key)))
                .read(report(sealed), signatures);
        Evidence withoutKey = reader(s3, List.of(rotated)).read(report(sealed), signatures);
        Evidence plainText = reader(s3, List.of()).read(report(open), signatures);

        assertThat(withKey.kind()).isEqualTo("linux-console");
        assertThat(withKey.signature().title()).isEqualTo(plainText.signature().title());
        assertThat(withoutKey.kind()).isEqualTo("hypervisor");
    }

    private static EvidenceReader reader(String endpoint) {
        return reader(endpoint, List.of());
    }

    private static EvidenceReader reader(String endpoint, List<String> keys) {
        Endpoints endpoints = Devstack.shared().endpoints();
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoint)
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        return new EvidenceReader(
                new EvidenceStore(s3, DevstackConfig.ARTIFACTS_BUCKET, 1 << 20, Duration.ofMinutes(1)),
                new EvidenceKeys(keys));
    }

    private static CrashReported report(ArtifactRef artifact) {
        return CrashFixtures.report(
                "rel-1",
                "AcmeOS",
                Instant.now(),
                UUID.randomUUID().toString(),
                "host-1",
                IncidentTrigger.CRASH,
                List.of(artifact));
    }

    /** A crash whose console text was verified by ingestion but is not (or no longer) in the store. */
    private static CrashReported reportWithConsole() {
        String sha = UUID.randomUUID().toString().replace("-", "")
                + UUID.randomUUID().toString().replace("-", "");
        ArtifactRef console = ArtifactRef.newBuilder()
                .setKind(ArtifactKind.CONSOLE_TEXT)
                .setObjectKey("sha256/" + sha.substring(0, 2) + "/" + sha)
                .setSha256(sha)
                .setSizeBytes(100)
                .setFormat("text/plain")
                .setStatus(ArtifactStatus.VERIFIED)
                .build();
        return CrashFixtures.report(
                "rel-1",
                "AcmeOS",
                Instant.now(),
                UUID.randomUUID().toString(),
                "host-1",
                IncidentTrigger.CRASH,
                List.of(console));
    }
}
