package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.agent.Agent;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.libvirt.Domain;

/** Periodic snapshots of a running guest on the real hypervisor, pruned without breaking the overlay chain. */
@ExtendWith(DevstackExtension.class)
class RollingSnapshotsIT {

    @BeforeAll
    static void hypervisor() {
        TestGuest.requireHypervisor();
    }

    @Test
    void keepsTheNewestDiskOnlySnapshotsAndTheChainStillHoldsEveryWrite(Endpoints endpoints) throws Exception {
        rollAndCheck(endpoints, false);
    }

    @Test
    void memoryAndDiskSnapshotsOnRequestLeaveNoStateFilesOfPrunedOnes(Endpoints endpoints) throws Exception {
        rollAndCheck(endpoints, true);
    }

    private void rollAndCheck(Endpoints endpoints, boolean memory) throws Exception {
        try (TestGuest guest = new TestGuest("snapshots")) {
            String masterSha = CrashCaptureIT.sha256(guest.master);
            var config = CrashCaptureIT.config(
                    endpoints,
                    Map.of(
                            "VIGIL_AGENT_SNAPSHOT_EVERY", "PT2S",
                            "VIGIL_AGENT_SNAPSHOT_KEEP", "2",
                            "VIGIL_AGENT_SNAPSHOT_MEMORY", String.valueOf(memory)));
            try (Agent agent = new Agent(config)) {
                Domain domain =
                        guest.start(guest.xml("vigil.scenario=idle vigil.write=10:4:17", guest.overlayDisk(), ""));
                await().atMost(Duration.ofSeconds(60))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> guest.consoleText().contains("wrote 4 blocks of 17"));
                agent.start();
                await().atMost(Duration.ofSeconds(90))
                        .pollInterval(Duration.ofMillis(500))
                        .until(() -> counter(agent, "vigil_agent_snapshots_pruned_total") >= 2);
                agent.close();

                List<String> trusted = Arrays.stream(domain.snapshotListNames())
                        .filter(n -> n.startsWith("vigil-"))
                        .sorted()
                        .toList();
                assertThat(trusted).hasSize(2);
                Path vmDir = config.stateDir().resolve("snapshots").resolve(domain.getUUIDString());
                if (memory) {
                    try (Stream<Path> files = Files.list(vmDir)) {
                        assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".mem")))
                                .containsExactlyInAnyOrder(trusted.get(0) + ".mem", trusted.get(1) + ".mem");
                    }
                }

                // The running disk's chain: newest overlay, the kept snapshot's overlay, the original overlay (with
                // the pruned ones merged into it), the master, which was never written.
                JsonNode chain = new ObjectMapper()
                        .readTree(output(
                                "qemu-img", "info", "-U", "--backing-chain", "--output=json", activeDisk(domain)));
                assertThat(chain).hasSize(4);
                assertThat(chain.get(2).path("filename").asText()).isEqualTo(guest.overlay.toString());
                assertThat(chain.get(3).path("filename").asText()).isEqualTo(guest.master.toString());
                assertThat(CrashCaptureIT.sha256(guest.master)).isEqualTo(masterSha);
                Path flat = guest.dir.resolve("flat.raw");
                TestGuest.run("qemu-img", "convert", "-U", "-O", "raw", activeDisk(domain), flat.toString());
                byte[] disk = Files.readAllBytes(flat);
                assertThat(disk[10 * 4096]).isEqualTo((byte) 17);
                assertThat(disk[14 * 4096 - 1]).isEqualTo((byte) 17);
                assertThat(new String(disk, 4096, 25)).isEqualTo(dev.vigil.devstack.GuestDomain.MASTER_MARK);
            }
        }
    }

    private static String activeDisk(Domain domain) throws Exception {
        return org.libvirt.Domain.class
                .cast(domain)
                .getXMLDesc(0)
                .lines()
                .filter(l -> l.contains("<source file="))
                .findFirst()
                .orElseThrow()
                .replaceAll(".*file='([^']*)'.*", "$1");
    }

    private static double counter(Agent agent, String name) {
        return agent.metrics()
                .scrape()
                .lines()
                .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static String output(String... command) throws Exception {
        Process process = new ProcessBuilder(command).start();
        String out = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).isZero();
        return out;
    }
}
