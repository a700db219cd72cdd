package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.Agent;
import dev.vigil.agent.TcpForwarder;
import dev.vigil.agent.TopicReader;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.Hang;
import dev.vigil.schemas.common.ArtifactKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * Evidence captured while the object store is unreachable waits on the host's disk, survives an agent restart,
 * and is stored (encrypted) and announced once the store is back, through a broker outage too. The trigger is a hang on
 * libvirt's test hypervisor (busy vCPUs behind a frozen screen), which needs no QEMU.
 */
class CaptureOutageIT {

    private static final byte[] KEY = new byte[32];

    static {
        new java.security.SecureRandom().nextBytes(KEY);
    }

    private static Devstack stack;
    private static DevstackConfig config;

    @BeforeAll
    static void startOwnStack() {
        config = DevstackConfig.forTests().keepingData();
        stack = Devstack.start(config);
    }

    @AfterAll
    static void stopOwnStack() {
        stack.close();
        Devstack.deleteTree(config.workDir());
    }

    @Test
    void evidenceCapturedDuringAnObjectStoreOutageArrivesAfterItAcrossARestartAndABrokerOutage() throws Exception {
        Endpoints endpoints = stack.endpoints();
        Path stateDir = Files.createTempDirectory("vigil-agent-");
        Path staged = stateDir.resolve("artifacts");
        Connect hypervisor = new Connect("test:///default");
        Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>outage-"
                + UUID.randomUUID().toString().substring(0, 8)
                + "</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");
        String uuid = domain.getUUIDString();
        try (TcpForwarder s3 = new TcpForwarder(endpoints.s3Endpoint())) {
            AgentConfig agentConfig = config(endpoints, stateDir, s3.url("http"));

            // 1. The store is unreachable: the capture is staged on disk and upload rounds fail.
            String incident;
            try (Agent agent = new Agent(agentConfig);
                    TopicReader<AgentEvent> events =
                            new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class)) {
                agent.start();
                domain.create();
                incident = await().atMost(Duration.ofSeconds(30))
                        .until(
                                () -> events.poll().stream()
                                        .filter(e -> e.getPayload() instanceof Hang)
                                        .filter(e -> uuid.equals(e.getVm().getUuid()))
                                        .map(e -> e.getEnvelope().getEventId().toString())
                                        .findFirst()
                                        .orElse(null),
                                id -> id != null);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> tickets(staged.resolve(incident)).size() >= 4);
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> agent.metrics()
                                .scrape()
                                .lines()
                                .anyMatch(l -> l.startsWith("vigil_agent_artifacts_upload_failures_total")
                                        && !l.endsWith(" 0.0")));
            }
            Set<String> stagedKinds = tickets(staged.resolve(incident));
            assertThat(stagedKinds).contains("screenshot.json", "domain_xml.json", "flight_recorder.json");

            // 2. The agent restarts with the store back but the broker down: objects are stored, manifests spooled.
            s3.up();
            stack.stopKafka();
            try (Agent agent = new Agent(agentConfig)) {
                agent.start();
                await().atMost(Duration.ofSeconds(60)).until(() -> !Files.exists(staged.resolve(incident)));
                assertThat(agent.spool().drained()).isFalse();

                // 3. The broker returns: every staged artifact is announced, once, and its object matches.
                stack.startKafka();
                try (TopicReader<ArtifactManifest> artifacts =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_ARTIFACTS, ArtifactManifest.class)) {
                    List<ArtifactManifest> manifests = await().atMost(Duration.ofSeconds(60))
                            .until(
                                    () -> artifacts.poll().stream()
                                            .filter(m -> incident.equals(
                                                    m.getIncidentId().toString()))
                                            .toList(),
                                    list -> list.size() >= stagedKinds.size());
                    assertThat(manifests).hasSize(stagedKinds.size());
                    assertThat(manifests.stream().map(m -> m.getKind().name().toLowerCase() + ".json"))
                            .containsExactlyInAnyOrderElementsOf(stagedKinds);
                    for (ArtifactManifest m : manifests) {
                        byte[] sealed = CrashCaptureIT.fetch(endpoints, m);
                        assertThat(m.getCapturePlan()).hasSize(stagedKinds.size());
                        // Stored encrypted: only the key holder reads the evidence.
                        assertThat(m.getEncryption().toString()).startsWith(ConvergentEncryption.SCHEME + ";key=");
                        byte[] plain = new ConvergentEncryption(KEY).decrypt(sealed);
                        if (m.getKind() == ArtifactKind.SCREENSHOT) {
                            assertThat(plain).startsWith(0x89, 'P', 'N', 'G');
                        }
                    }
                    assertThat(manifests.stream().map(ArtifactManifest::getKind))
                            .contains(ArtifactKind.SCREENSHOT, ArtifactKind.FLIGHT_RECORDER);
                }
            }
        } finally {
            if (domain.isActive() == 1) {
                domain.destroy();
            }
            domain.undefine();
            hypervisor.close();
        }
    }

    private static Set<String> tickets(Path incidentDir) throws Exception {
        if (!Files.isDirectory(incidentDir)) {
            return Set.of();
        }
        try (Stream<Path> files = Files.list(incidentDir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".json"))
                    .collect(Collectors.toSet());
        }
    }

    private static AgentConfig config(Endpoints endpoints, Path stateDir, String s3) {
        return AgentConfig.load(Map.ofEntries(
                Map.entry("VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile()),
                Map.entry("VIGIL_AGENT_STATE_DIR", stateDir.toString()),
                Map.entry("VIGIL_AGENT_HTTP_PORT", "0"),
                Map.entry("VIGIL_AGENT_HOST_ID", "capture-outage-" + UUID.randomUUID()),
                Map.entry("VIGIL_AGENT_DELIVERY_TIMEOUT", "PT3S"),
                Map.entry("VIGIL_AGENT_SAMPLE_PERIOD", "PT0.2S"),
                Map.entry("VIGIL_AGENT_FRAME_CHECK_PERIOD", "PT0.2S"),
                Map.entry("VIGIL_AGENT_HANG_AFTER", "PT1S"),
                Map.entry("VIGIL_AGENT_S3_ENDPOINT", s3),
                Map.entry("VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey()),
                Map.entry("VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey()),
                Map.entry(
                        "VIGIL_AGENT_ARTIFACT_ENCRYPTION_KEY",
                        java.util.Base64.getEncoder().encodeToString(KEY))));
    }
}
