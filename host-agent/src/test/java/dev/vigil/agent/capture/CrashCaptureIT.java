package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.agent.Agent;
import dev.vigil.agent.TopicReader;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.IoError;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.Watchdog;
import dev.vigil.schemas.common.ArtifactKind;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The crash path on a real hypervisor: a Linux guest under QEMU panics (pvpanic), trips its watchdog, or fills its
 * disk; the agent sees it, captures the evidence, stores it in the devstack's S3 store and announces it on Kafka. The
 * assertions read the stored bytes back. A panic's kdump, console text, domain XML and failure snapshot are checked
 * byte by byte in {@link CaptureResumeIT}, where the same capture also survives two kills of the agent.
 */
@ExtendWith(DevstackExtension.class)
class CrashCaptureIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void hypervisor() {
        TestGuest.requireHypervisor();
    }

    @Test
    void aWatchdogExpiryPausesTheGuestAndItsEvidenceIsCaptured(Endpoints endpoints) throws Exception {
        try (TestGuest guest = new TestGuest("watchdog");
                Agent agent = new Agent(config(endpoints, Map.of("VIGIL_AGENT_DUMP_POLICY", "watchdog=full")));
                TopicReader<AgentEvent> events =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class);
                TopicReader<ArtifactManifest> artifacts =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_ARTIFACTS, ArtifactManifest.class)) {
            agent.start();
            String uuid = guest.start(guest.xml(
                            "vigil.scenario=watchdog",
                            guest.overlayDisk(),
                            "<watchdog model='i6300esb' action='pause'/>"))
                    .getUUIDString();

            List<ArtifactManifest> manifests = awaitCapture(artifacts, uuid, 6);
            AgentEvent watchdog = events.poll().stream()
                    .filter(e -> e.getVm() != null && uuid.equals(e.getVm().getUuid()))
                    .filter(e -> e.getPayload() instanceof Watchdog)
                    .findFirst()
                    .orElseThrow();
            assertThat(manifests.get(0).getIncidentId().toString())
                    .isEqualTo(watchdog.getEnvelope().getEventId().toString());
            Map<ArtifactKind, ArtifactManifest> byKind = byKind(manifests);
            ArtifactManifest dump = byKind.get(ArtifactKind.MEMORY_DUMP);
            assertThat(dump.getFormat().toString()).isEqualTo("elf");
            byte[] elf = fetch(endpoints, dump);
            assertThat(elf).startsWith(0x7f, 'E', 'L', 'F');
            assertThat(elf[16]).as("ET_CORE").isEqualTo((byte) 4);
            assertThat(new String(fetch(endpoints, byKind.get(ArtifactKind.CONSOLE_TEXT)), StandardCharsets.UTF_8))
                    .contains("arming the watchdog");
        }
    }

    @Test
    void aFullHostDiskPausesTheGuestOnAnIoErrorAndItsEvidenceIsCaptured(Endpoints endpoints) throws Exception {
        try (TestGuest guest = new TestGuest("diskfull");
                Agent agent = new Agent(config(endpoints, Map.of()));
                TopicReader<AgentEvent> events =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class);
                TopicReader<ArtifactManifest> artifacts =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_ARTIFACTS, ArtifactManifest.class)) {
            // A 64 MiB sparse disk on a 4 MiB file system: the guest's writes run out of host space.
            var small = Files.createDirectories(guest.dir.resolve("small-fs"));
            TestGuest.run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small.toString());
            guest.onClose(() -> {
                try {
                    TestGuest.run("umount", "-l", small.toString());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            var disk = small.resolve("data.raw");
            try (var file = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
                file.setLength(64L << 20);
            }
            agent.start();
            String uuid = guest.start(guest.xml(
                            "vigil.scenario=diskfull",
                            "<disk type='file' device='disk'><driver name='qemu' type='raw' error_policy='stop'/>"
                                    + "<source file='" + disk + "'/><target dev='vda' bus='virtio'/></disk>",
                            ""))
                    .getUUIDString();

            List<ArtifactManifest> manifests = awaitCapture(artifacts, uuid, 5);
            AgentEvent ioError = events.poll().stream()
                    .filter(e -> e.getVm() != null && uuid.equals(e.getVm().getUuid()))
                    .filter(e -> e.getPayload() instanceof IoError)
                    .findFirst()
                    .orElseThrow();
            assertThat(((IoError) ioError.getPayload()).getReason().toString()).isEqualTo("enospc");
            assertThat(manifests.get(0).getIncidentId().toString())
                    .isEqualTo(ioError.getEnvelope().getEventId().toString());
            // I/O-error pauses take no memory dump by default; the disks are snapshotted before anything else.
            Map<ArtifactKind, ArtifactManifest> byKind = byKind(manifests);
            assertThat(byKind).doesNotContainKey(ArtifactKind.MEMORY_DUMP);
            JsonNode snapshots = JSON.readTree(fetch(endpoints, byKind.get(ArtifactKind.SNAPSHOT_REF)));
            assertThat(snapshots.path("failureSnapshot").asText()).startsWith("failure-");
            assertThat(new String(fetch(endpoints, byKind.get(ArtifactKind.CONSOLE_TEXT)), StandardCharsets.UTF_8))
                    .contains("filling /dev/vda");
        }
    }

    @Test
    void aCrashedVmIsRelaunchedFromItsLastTrustedSnapshotAfterItsEvidenceIsTaken(Endpoints endpoints) throws Exception {
        try (TestGuest guest = new TestGuest("relaunch")) {
            AgentConfig config = config(
                    endpoints, Map.of("VIGIL_AGENT_ON_CRASH", "relaunch", "VIGIL_AGENT_DUMP_POLICY", "crash=none"));
            try (Agent agent = new Agent(config);
                    TopicReader<AgentEvent> events =
                            new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class);
                    TopicReader<ArtifactManifest> artifacts =
                            new TopicReader<>(endpoints, TopicCatalog.AGENT_ARTIFACTS, ArtifactManifest.class)) {
                agent.start();
                // Healthy: 4 blocks of 17 at block 10. Then a trusted snapshot. Then the beta writes 4 blocks of 34
                // at block 20 and panics.
                var domain = guest.start(guest.xml(
                        "vigil.scenario=panic vigil.write=10:4:17 vigil.delay=15 vigil.late=20:4:34",
                        guest.overlayDisk(),
                        ""));
                String uuid = domain.getUUIDString();
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> guest.consoleText().contains("wrote 4 blocks of 17 at block 10"));
                String trusted = new RollingSnapshots(
                                () -> null,
                                config.stateDir().resolve("snapshots"),
                                3,
                                false,
                                java.time.Clock.systemUTC())
                        .take(
                                domain,
                                dev.vigil.agent.hypervisor.DomainXml.parse(domain.getXMLDesc(0))
                                        .orElseThrow(),
                                false);

                List<ArtifactManifest> manifests = awaitCapture(artifacts, uuid, 6);
                // The panic is a lifecycle change and a Crash event, and the Crash opens the incident. The events
                // travel on their own topic, so they may reach this reader after the manifests.
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    List<AgentEvent> seen = events.poll().stream()
                            .filter(e ->
                                    e.getVm() != null && uuid.equals(e.getVm().getUuid()))
                            .toList();
                    assertThat(seen.stream()
                                    .filter(e -> e.getPayload() instanceof Lifecycle)
                                    .map(e -> ((Lifecycle) e.getPayload()).getState() + "/"
                                            + ((Lifecycle) e.getPayload()).getReason()))
                            .contains("CRASHED/PANICKED");
                    assertThat(seen.stream()
                                    .filter(e -> e.getPayload() instanceof Crash)
                                    .map(e -> e.getEnvelope().getEventId().toString()))
                            .contains(manifests.get(0).getIncidentId().toString());
                });
                // The evidence holds the crashed disk, with the beta's late write.
                Path delta = Files.write(
                        guest.dir.resolve("delta"),
                        fetch(endpoints, byKind(manifests).get(ArtifactKind.DISK_DELTA)));
                byte[] crashed = Files.readAllBytes(DiskDelta.rebuild(
                                delta,
                                Map.of("vda", guest.master),
                                Files.createDirectories(guest.dir.resolve("rebuilt")))
                        .get("vda"));
                assertThat(crashed[20 * 4096]).isEqualTo((byte) 34);

                // The VM runs again, on a fresh overlay over the disks as they were at the trusted snapshot.
                await().atMost(Duration.ofSeconds(30))
                        .pollInterval(Duration.ofMillis(200))
                        .until(() -> domain.getXMLDesc(0).contains("/relaunch-") && domain.isActive() == 1);
                assertThat(domain.getInfo().state).isEqualTo(org.libvirt.DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
                assertThat(domain.snapshotListNames()).doesNotContain(trusted);
                String disk = domain.getXMLDesc(0)
                        .lines()
                        .filter(l -> l.contains("<source file=") && l.contains("/relaunch-"))
                        .findFirst()
                        .orElseThrow()
                        .replaceAll(".*file='([^']*)'.*", "$1");
                Path now = guest.dir.resolve("relaunched.raw");
                TestGuest.run("qemu-img", "convert", "-U", "-O", "raw", disk, now.toString());
                byte[] relaunched = Files.readAllBytes(now);
                assertThat(relaunched[10 * 4096]).isEqualTo((byte) 17);
                assertThat(relaunched[20 * 4096])
                        .as("the write after the trusted snapshot is gone")
                        .isZero();
                assertThat(sha256(guest.master)).isEqualTo(sha256(guest.definition.master()));
            }
        }
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(ConvergentEncryption.sha256(file));
    }

    static AgentConfig config(Endpoints endpoints, Map<String, String> extra) throws Exception {
        Map<String, String> env = new HashMap<>(Map.of(
                "VIGIL_AGENT_STATE_DIR",
                        Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT", "0",
                "VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile(),
                "VIGIL_AGENT_HYPERVISOR_URI", TestGuest.URI,
                "VIGIL_AGENT_HOST_ID", "host-" + UUID.randomUUID(),
                "VIGIL_AGENT_TENANT", "acme",
                "VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint(),
                "VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey(),
                "VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey()));
        env.putAll(extra);
        return AgentConfig.load(env);
    }

    /** Waits for {@code count} manifests of one incident of the VM. */
    static List<ArtifactManifest> awaitCapture(TopicReader<ArtifactManifest> artifacts, String uuid, int count) {
        return await().atMost(Duration.ofSeconds(120))
                .pollInterval(Duration.ofMillis(500))
                .until(
                        () -> artifacts.poll().stream()
                                .filter(m -> uuid.equals(m.getVm().getUuid().toString()))
                                .toList(),
                        list -> list.size() >= count);
    }

    static Map<ArtifactKind, ArtifactManifest> byKind(List<ArtifactManifest> manifests) {
        return manifests.stream().collect(Collectors.toMap(ArtifactManifest::getKind, m -> m, (a, b) -> a));
    }

    /** The stored object's bytes, checked against the manifest's size and SHA-256. */
    static byte[] fetch(Endpoints endpoints, ArtifactManifest manifest) throws Exception {
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        try (InputStream in = s3.getObject(GetObjectArgs.builder()
                .bucket(manifest.getBucket().toString())
                .object(manifest.getObjectKey().toString())
                .build())) {
            byte[] bytes = in.readAllBytes();
            assertThat((long) bytes.length).isEqualTo(manifest.getSizeBytes());
            assertThat(HexFormat.of()
                            .formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                    .isEqualTo(manifest.getSha256().toString());
            assertThat(manifest.getObjectKey().toString())
                    .isEqualTo(ObjectKeys.evidence(
                            manifest.getEnvelope().getTenant().toString(),
                            manifest.getEnvelope().getSource().getHostId().toString(),
                            manifest.getSha256().toString()));
            return bytes;
        }
    }
}
