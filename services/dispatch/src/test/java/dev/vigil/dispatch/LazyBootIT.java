package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.schemas.delivery.ImageChunker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.DomainInfo;
import org.libvirt.LibvirtException;

/**
 * A release's VM booting on the real hypervisor (QEMU under TCG) from an image that has not arrived: QEMU reads it
 * through the agent's loopback server, which fetches and verifies each chunk first; the rest is pulled in the
 * background and the disk moves onto the local master under the running guest.
 */
@QuarkusTest
@QuarkusTestResource(value = DevstackTestResource.class, restrictToAnnotatedClass = false)
class LazyBootIT {

    static final long IMAGE_BYTES = 64L << 20;
    /** A guest write after boot, into the image's data past the boot files: block 14000 of 4 KiB, four blocks. */
    static final long WRITE_BLOCK = 14_000;

    @TempDir
    Path dir;

    private final RealHypervisor hypervisor = new RealHypervisor();

    @BeforeAll
    static void realHypervisor() {
        RealHypervisor.assumeReady();
    }

    @AfterEach
    void removeVms() throws LibvirtException {
        hypervisor.close();
    }

    @Test
    void theVmBootsBeforeItsImageArrivesAndEndsOnTheLocalMasterWithTheGuestsWrites() throws Exception {
        String product = Vendor.product();
        Path image = GuestDomain.bootableImage(
                dir.resolve("boot.raw"),
                IMAGE_BYTES,
                "console=ttyS0 panic=0 vigil.scenario=idle vigil.write=" + WRITE_BLOCK + ":4:171",
                11);
        Vendor.publish(product, image, RealHypervisor.release("1.0"));
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Frances Allen");
        // The pull waits long enough for the boot: what the guest reads before then, it read on demand.
        AgentHost host = host(dir.resolve("state"), "PT30S");

        try (Deliveries deliveries = host.deliveries()) {
            Installer.Installation installed = host.enroll(token, hypervisor.connect(), deliveries);
            String vm = installed.vmUuid();
            hypervisor.removeAfter(vm);
            Path console = host.state.resolve("vms").resolve(installed.vmUuid()).resolve("console.log");
            Path master =
                    host.state.resolve("images").resolve(product).resolve("1.0").resolve("master.raw");

            assertThat(hypervisor.vm(vm).getXMLDesc(0))
                    .contains("protocol='http'")
                    .contains("<host name='127.0.0.1' port='" + host.settings().get("VIGIL_AGENT_IMAGE_PORT"));
            hypervisor.awaitConsole(console, "vigil-guest: wrote 4 blocks", Duration.ofSeconds(90), host, vm);
            // The license's features reached the guest through its firmware configuration at first boot.
            assertThat(RealHypervisor.console(console))
                    .containsPattern("vigil-guest: license product=" + product
                            + " license=[0-9a-f-]{36} features=beta telemetry validUntil=20[0-9-]+T");
            // Booted from what was read on demand: the image is not all here.
            assertThat(master).doesNotExist();
            assertThat(master.resolveSibling("master.raw.part")).exists();

            assertThat(deliveries.await()).isEmpty();
            assertThat(master).hasSameBinaryContentAs(image);
            String xml = hypervisor.vm(vm).getXMLDesc(0);
            assertThat(xml)
                    .doesNotContain("protocol='http'")
                    .contains("disk-local.qcow2")
                    .contains("<source file='" + master + "'");
            assertThat(hypervisor.vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
            assertThat(RealHypervisor.console(console)).doesNotContain("I/O error");
            assertThat(host.printed())
                    .contains("it is running while the rest of its 64.0 MiB image arrives")
                    .contains("the whole image is here and verified");
            Path disk = installed.disk().resolveSibling("disk-local.qcow2");
            assertThat(Files.readString(host.state
                            .resolve("delivery")
                            .resolve("installed")
                            .resolve(installed.vmUuid() + ".properties")))
                    .contains("disk=" + disk)
                    .doesNotContain("arriving=");
            assertThat(installed.disk()).doesNotExist();

            // The guest's own write moved with the pivot; everything else reads as the master.
            hypervisor.vm(vm).destroy();
            Path flat = dir.resolve("flat.raw");
            GuestDomain.run("qemu-img", "convert", "-U", "-O", "raw", disk.toString(), flat.toString());
            byte[] expected = Files.readAllBytes(image);
            Arrays.fill(expected, (int) (WRITE_BLOCK * 4096), (int) ((WRITE_BLOCK + 4) * 4096), (byte) 171);
            assertThat(flat).hasBinaryContent(expected);
        }
    }

    @Test
    void theRunningAgentFinishesAPullTheEnrolmentLeftAndTheVmGoesOn() throws Exception {
        String product = Vendor.product();
        Path image = GuestDomain.bootableImage(
                dir.resolve("boot.raw"), IMAGE_BYTES, "console=ttyS0 panic=0 vigil.scenario=idle", 13);
        Vendor.publish(product, image, RealHypervisor.release("1.0"));
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Katherine Johnson");
        // The enrolment's own pull would wait ten minutes: it is stopped long before.
        AgentHost host = host(dir.resolve("state"), "PT10M");

        Installer.Installation installed;
        try (Deliveries enrolment = host.deliveries()) {
            installed = host.enroll(token, hypervisor.connect(), enrolment);
            hypervisor.removeAfter(installed.vmUuid());
            hypervisor.awaitConsole(
                    host.state.resolve("vms").resolve(installed.vmUuid()).resolve("console.log"),
                    "vigil-guest: up",
                    Duration.ofSeconds(90),
                    host,
                    installed.vmUuid());
        }
        Path master =
                host.state.resolve("images").resolve(product).resolve("1.0").resolve("master.raw");
        assertThat(master).doesNotExist();
        assertThat(Files.readString(host.state
                        .resolve("delivery")
                        .resolve("installed")
                        .resolve(installed.vmUuid() + ".properties")))
                .contains("arriving=");

        // The agent starts (same state, same image port): it serves the image again and pulls the rest.
        AgentHost agent = host.with("VIGIL_AGENT_PULL_DELAY", "0");
        try (Deliveries running = agent.deliveries()) {
            assertThat(running.resume()).isEqualTo(1);
            assertThat(running.await()).isEmpty();
        }
        assertThat(master).hasSameBinaryContentAs(image);
        String vm = installed.vmUuid();
        assertThat(hypervisor.vm(vm).getXMLDesc(0))
                .doesNotContain("protocol='http'")
                .contains("disk-local.qcow2");
        assertThat(hypervisor.vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
        assertThat(agent.printed())
                .containsPattern(product + " 1\\.0: [0-9.]+ of 64\\.0 MiB are here; pulling the rest under VM "
                        + installed.vmUuid())
                .contains("the whole image is here and verified");
    }

    @Test
    void aVmNeverRunsATamperedKernelAndGoesOnOnceTheStoreServesTheSignedBytes() throws Exception {
        String product = Vendor.product();
        Path image = GuestDomain.bootableImage(
                dir.resolve("boot.raw"), IMAGE_BYTES, "console=ttyS0 panic=0 vigil.scenario=idle", 12);
        Vendor.publish(product, image, RealHypervisor.release("1.0"));
        ImageChunker.Chunk victim = Images.chunkHolding(image, kernelOffset(image));
        byte[] genuine = Images.chunk(image, victim);
        byte[] forged = genuine.clone();
        forged[forged.length / 2] ^= 1;
        Images.storeChunk(victim, forged);
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Barbara Liskov");
        AgentHost host = host(dir.resolve("state"), "PT1S");

        try (Deliveries deliveries = host.deliveries()) {
            Installer.Installation installed = host.enroll(token, hypervisor.connect(), deliveries);
            String vm = installed.vmUuid();
            hypervisor.removeAfter(vm);
            Path console = host.state.resolve("vms").resolve(installed.vmUuid()).resolve("console.log");

            // The boot loader's read of the kernel fails: the VM stops there instead of running altered bytes.
            try {
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> hypervisor.vm(vm).getInfo().state == DomainInfo.DomainState.VIR_DOMAIN_PAUSED);
            } catch (ConditionTimeoutException e) {
                throw new AssertionError("the VM did not pause: " + hypervisor.diagnosis(console, host, vm), e);
            }
            Thread.sleep(2000);
            assertThat(hypervisor.vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_PAUSED);
            assertThat(RealHypervisor.console(console)).doesNotContain("Linux version");
            assertThat(host.printed())
                    .contains("offset " + victim.offset())
                    .contains("does not match the signed manifest");

            Images.storeChunk(victim, genuine);
            hypervisor.awaitConsole(console, "vigil-guest: up", Duration.ofSeconds(120), host, vm);
            assertThat(host.printed()).contains("resumed");
            assertThat(deliveries.await()).isEmpty();
            assertThat(host.state
                            .resolve("images")
                            .resolve(product)
                            .resolve("1.0")
                            .resolve("master.raw"))
                    .hasSameBinaryContentAs(image);
            assertThat(hypervisor.vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
        }
    }

    /** Where the guest's kernel starts in the image (the FAT keeps it in one run of clusters). */
    private static long kernelOffset(Path image) throws Exception {
        byte[] head = new byte[4096];
        try (InputStream in = Files.newInputStream(GuestDomain.GUEST_DIR.resolve("vmlinuz"))) {
            in.readNBytes(head, 0, head.length);
        }
        byte[] bytes = new byte[(int) GuestDomain.BOOT_BYTES];
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "r")) {
            file.readFully(bytes);
        }
        for (int at = 0; at + head.length <= bytes.length; at += 512) {
            if (Arrays.equals(bytes, at, at + head.length, head, 0, head.length)) {
                return at;
            }
        }
        throw new AssertionError("the kernel is not in the image's boot files");
    }

    /** A host on the real hypervisor with its own image port, the background pull waiting {@code pullDelay}. */
    private static AgentHost host(Path state, String pullDelay) throws Exception {
        return RealHypervisor.host(state, Map.of("VIGIL_AGENT_PULL_DELAY", pullDelay));
    }
}
