package dev.vigil.agent.capture;

import static dev.vigil.agent.capture.CrashCaptureIT.awaitCapture;
import static dev.vigil.agent.capture.CrashCaptureIT.byKind;
import static dev.vigil.agent.capture.CrashCaptureIT.fetch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.agent.TopicReader;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.common.ArtifactKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.libvirt.Connect;

/**
 * {@code kill -9} of the agent process during a real guest's crash capture, twice: once as the capture begins and
 * once while the memory dump of its second attempt runs. The third agent takes the capture up from what survived (the
 * VM preserved as it crashed, the failure snapshot the first attempt took) and every kind of evidence arrives, with a
 * report that says it was resumed.
 */
@ExtendWith(DevstackExtension.class)
class CaptureResumeIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void hypervisor() {
        TestGuest.requireHypervisor();
    }

    @Test
    void aCaptureInterruptedByKillsIsResumedFromThePreservedVm(Endpoints endpoints) throws Exception {
        Path state = Files.createTempDirectory("vigil-agent-resume-");
        Path pending = state.resolve("artifacts/.pending");
        Path work = state.resolve("artifacts/.work");
        String hostId = "resume-" + UUID.randomUUID();
        List<Process> agents = new ArrayList<>();
        try (TestGuest guest = new TestGuest("resume");
                TopicReader<ArtifactManifest> artifacts =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_ARTIFACTS, ArtifactManifest.class)) {
            Process first = startAgent(endpoints, state, hostId, agents);
            awaitWatching(state, 1);
            String uuid = guest.start(guest.xml(
                            "vigil.scenario=panic vigil.delay=1 vigil.write=100:8:171", guest.overlayDisk(), ""))
                    .getUUIDString();

            // 1. As the capture begins: its intent is on disk, nothing is staged yet.
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> !files(pending).isEmpty());
            first.destroyForcibly().waitFor();

            // 2. While the second attempt's memory dump runs.
            Process second = startAgent(endpoints, state, hostId, agents);
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> files(work).stream()
                            .anyMatch(f -> f.getFileName().toString().startsWith("memory.")));
            second.destroyForcibly().waitFor();

            startAgent(endpoints, state, hostId, agents);
            List<ArtifactManifest> manifests = awaitCapture(artifacts, uuid, 7);
            Map<ArtifactKind, ArtifactManifest> byKind = byKind(manifests);
            assertThat(byKind.keySet())
                    .containsExactlyInAnyOrder(
                            ArtifactKind.DOMAIN_XML,
                            ArtifactKind.SCREENSHOT,
                            ArtifactKind.CONSOLE_TEXT,
                            ArtifactKind.MEMORY_DUMP,
                            ArtifactKind.SNAPSHOT_REF,
                            ArtifactKind.DISK_DELTA,
                            ArtifactKind.FLIGHT_RECORDER);
            assertThat(manifests.stream().map(m -> m.getIncidentId().toString()))
                    .as("one incident, the crash's")
                    .containsOnly(manifests.get(0).getIncidentId().toString());

            byte[] dump = fetch(endpoints, byKind.get(ArtifactKind.MEMORY_DUMP));
            assertThat(new String(dump, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("KDUMP   ");
            assertThat(new String(fetch(endpoints, byKind.get(ArtifactKind.CONSOLE_TEXT)), StandardCharsets.UTF_8))
                    .contains("Kernel panic - not syncing");

            String recorder =
                    new String(fetch(endpoints, byKind.get(ArtifactKind.FLIGHT_RECORDER)), StandardCharsets.UTF_8);
            JsonNode report = JSON.readTree(recorder.lines().reduce((a, b) -> b).orElseThrow());
            assertThat(report.at("/capture/attempt").asInt()).isEqualTo(3);
            assertThat(report.at("/capture/resumed/why").asText()).contains("the agent stopped");
            assertThat(report.at("/capture/resumed/notRecovered")).isEmpty();
            assertThat(report.at("/capture/steps").findValuesAsText("outcome")).containsOnly("ok");

            // The first attempt's failure snapshot is the one the evidence came from: no second one was taken.
            JsonNode snapshots = JSON.readTree(fetch(endpoints, byKind.get(ArtifactKind.SNAPSHOT_REF)));
            String failureSnapshot = snapshots.path("failureSnapshot").asText();
            Connect connect = new Connect(TestGuest.URI);
            try {
                assertThat(connect.domainLookupByUUIDString(uuid).snapshotListNames())
                        .filteredOn(name -> name.startsWith("failure-"))
                        .containsExactly(failureSnapshot);
            } finally {
                connect.close();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> files(pending).isEmpty());
        } finally {
            // A failed wait must not leave an agent watching the hypervisor for the tests after this one.
            for (Process agent : agents) {
                agent.destroyForcibly().waitFor();
            }
        }
    }

    /** Waits until the {@code n}th agent started on {@code state} watches the hypervisor. */
    private static void awaitWatching(Path state, int n) {
        await().atMost(Duration.ofSeconds(120))
                .until(() -> Files.readString(state.resolve("agent.log"))
                                .lines()
                                .filter(line -> line.contains(" watching " + TestGuest.URI))
                                .count()
                        >= n);
    }

    private static List<Path> files(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).toList();
        }
    }

    private static Process startAgent(Endpoints endpoints, Path state, String hostId, List<Process> started)
            throws Exception {
        Path jar = Path.of("target", "vigil-host-agent.jar");
        assertThat(jar).as("the packaged agent (failsafe runs after package)").exists();
        ProcessBuilder builder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        state.resolve("agent.log").toFile()));
        Map<String, String> env = builder.environment();
        env.put("VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile());
        env.put("VIGIL_AGENT_STATE_DIR", state.toString());
        env.put("VIGIL_AGENT_HTTP_PORT", "0");
        env.put("VIGIL_AGENT_HOST_ID", hostId);
        env.put("VIGIL_AGENT_TENANT", "acme");
        env.put("VIGIL_AGENT_HYPERVISOR_URI", TestGuest.URI);
        env.put("VIGIL_AGENT_SAMPLE_PERIOD", "3600");
        env.put("VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint());
        env.put("VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey());
        env.put("VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey());
        Process agent = builder.start();
        started.add(agent);
        return agent;
    }
}
