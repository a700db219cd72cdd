package dev.vigil.agent.capture;

import static dev.vigil.agent.capture.CrashCaptureIT.awaitCapture;
import static dev.vigil.agent.capture.CrashCaptureIT.byKind;
import static dev.vigil.agent.capture.CrashCaptureIT.fetch;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.agent.PackagedAgent;
import dev.vigil.agent.TopicReader;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.common.ArtifactKind;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.libvirt.Connect;
import org.libvirt.DomainInfo;

/**
 * A real guest crashes while no agent watches it; the agent that starts finds it crashed and never captured, and
 * captures it. That capture is cut by {@code kill -9} of the agent process twice: once as it begins and once while the
 * memory dump of its second attempt runs. The third agent takes the capture up from what survived (the VM preserved
 * as it crashed, the failure snapshot the first attempt took) and every kind of evidence arrives, with a report that
 * says it was resumed.
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
                // Closed before the guest: no agent may still hold the VM when it is removed, nor watch the
                // hypervisor for the tests after this one.
                AutoCloseable stopAgents = () -> {
                    for (Process agent : agents) {
                        agent.destroyForcibly().waitFor();
                    }
                };
                TopicReader<ArtifactManifest> artifacts =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_ARTIFACTS, ArtifactManifest.class);
                TopicReader<AgentEvent> events =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class)) {
            // The guest crashes while no agent watches: the first agent finds it crashed and never captured.
            String uuid = guest.start(guest.xml(
                            "vigil.scenario=panic vigil.delay=1 vigil.write=100:8:171", guest.overlayDisk(), ""))
                    .getUUIDString();
            awaitCrashed(uuid);
            Process first = startAgent(endpoints, state, hostId, agents);

            // 1. As the capture begins: its intent is on disk, nothing is staged yet.
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> attemptOnDisk(pending) == 1);
            first.destroyForcibly().waitFor();

            // 2. While the second attempt's memory dump runs.
            Process second = startAgent(endpoints, state, hostId, agents);
            // The restarted agent empties the work directory before it records attempt 2: a memory file seen after
            // that is the second attempt's.
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(5))
                    .until(() -> attemptOnDisk(pending) == 2
                            && files(work).stream()
                                    .anyMatch(f -> f.getFileName().toString().startsWith("memory.")));
            second.destroyForcibly().waitFor();

            startAgent(endpoints, state, hostId, agents);
            List<ArtifactManifest> manifests = awaitCapture(artifacts, uuid, 7);
            String incident = manifests.get(0).getIncidentId().toString();
            AgentEvent trigger = await().atMost(Duration.ofSeconds(60))
                    .until(
                            () -> events.poll().stream()
                                    .filter(e -> e.getEnvelope()
                                            .getEventId()
                                            .toString()
                                            .equals(incident))
                                    .findFirst(),
                            Optional::isPresent)
                    .orElseThrow();
            assertThat(((Crash) trigger.getPayload()).getReason().toString()).isEqualTo("FOUND_CRASHED_AT_AGENT_START");
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
                    .containsOnly(incident);

            ArtifactManifest dumpManifest = byKind.get(ArtifactKind.MEMORY_DUMP);
            assertThat(dumpManifest.getFormat().toString()).isEqualTo("kdump-compressed");
            byte[] dump = fetch(endpoints, dumpManifest);
            assertThat(new String(dump, 0, 8, StandardCharsets.US_ASCII)).isEqualTo("KDUMP   ");
            // new_utsname follows the 8-byte signature and the 4-byte header version; QEMU fills in its machine.
            assertThat(new String(dump, 12 + 4 * 65, 6, StandardCharsets.US_ASCII))
                    .isEqualTo("x86_64");
            // The guest's VMCOREINFO (through qemu_fw_cfg and <vmcoreinfo/>) names the kernel that crashed.
            String head = new String(dump, 0, Math.min(dump.length, 1 << 20), StandardCharsets.ISO_8859_1);
            assertThat(head).containsPattern("OSRELEASE=6\\.1\\.[0-9]+-[0-9]+-amd64");
            assertThat(new String(fetch(endpoints, byKind.get(ArtifactKind.DOMAIN_XML)), StandardCharsets.UTF_8))
                    .contains("<name>" + guest.name + "</name>");
            for (ArtifactManifest m : manifests) {
                assertThat(m.getCapturePlan()).containsExactlyInAnyOrderElementsOf(byKind.keySet());
                assertThat(m.getVm().getProduct().toString()).isEqualTo("TinyLinux");
            }
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
                var domain = connect.domainLookupByUUIDString(uuid);
                assertThat(domain.snapshotListNames())
                        .filteredOn(name -> name.startsWith("failure-"))
                        .containsExactly(failureSnapshot);
                // The overlay the guest crashed on is frozen: the VM now writes to the snapshot's new overlay.
                assertThat(domain.getXMLDesc(0)).contains(failureSnapshot + "-vda.qcow2");
            } finally {
                connect.close();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> files(pending).isEmpty());
        }
    }

    /** Waits until the guest has panicked and libvirt holds it crashed (preserved). */
    private static void awaitCrashed(String uuid) throws Exception {
        Connect connect = new Connect(TestGuest.URI);
        try {
            await().atMost(Duration.ofSeconds(120))
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> connect.domainLookupByUUIDString(uuid).getInfo().state
                            == DomainInfo.DomainState.VIR_DOMAIN_CRASHED);
        } finally {
            connect.close();
        }
    }

    /** The attempt number of the capture in progress, or 0. */
    private static int attemptOnDisk(Path pending) throws Exception {
        for (Path intent : files(pending)) {
            if (intent.toString().endsWith(".json")) {
                try {
                    return JSON.readTree(intent.toFile()).path("attempt").asInt();
                } catch (java.io.IOException e) {
                    return 0; // being replaced at this moment
                }
            }
        }
        return 0;
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
        Process agent = PackagedAgent.start(
                endpoints,
                state,
                hostId,
                Map.of(
                        "VIGIL_AGENT_TENANT", "acme",
                        "VIGIL_AGENT_HYPERVISOR_URI", TestGuest.URI,
                        "VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint(),
                        "VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey(),
                        "VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey()));
        started.add(agent);
        return agent;
    }
}
