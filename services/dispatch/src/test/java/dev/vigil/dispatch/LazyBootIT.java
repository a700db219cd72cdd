package dev.vigil.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.devstack.DevstackTestResource;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.schemas.delivery.ImageChunker;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.libvirt.Connect;
import org.libvirt.Domain;
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

    static final String TEMPLATE = """
            <domain type='qemu'>
              <name>{{vm.name}}</name>
              <uuid>{{vm.uuid}}</uuid>
              <memory unit='MiB'>{{param.memoryMiB}}</memory>
              <vcpu>1</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
              <features><acpi/></features>
              <on_crash>preserve</on_crash>
              <devices>
                <disk type='file' device='disk'><source file='{{vigil.disk}}'/><target dev='vda' bus='virtio'/></disk>
                <serial type='file'><source path='{{vigil.console}}'/><target port='0'/></serial>
                <panic model='isa'/>
              </devices>
            </domain>
            """;
    static final long IMAGE_BYTES = 64L << 20;
    /** A guest write after boot, into the image's data past the boot files: block 14000 of 4 KiB, four blocks. */
    static final long WRITE_BLOCK = 14_000;

    @TempDir
    Path dir;

    // Connections are short-lived: once an agent in this JVM has registered libvirt's event loop, libvirtd closes a
    // connection that stays idle past its keepalive (no loop answers it here).
    private final List<String> vms = new java.util.ArrayList<>();
    private final List<Connect> connections = new java.util.ArrayList<>();

    @BeforeAll
    static void realHypervisor() {
        boolean ready = GuestDomain.built();
        String why = "no test guest: run devstack/hypervisor/setup (as root)";
        if (ready) {
            try {
                new Connect(GuestDomain.URI).close();
            } catch (LibvirtException e) {
                ready = false;
                why = "libvirtd does not answer (" + e.getMessage() + "): run devstack/hypervisor/setup";
            }
        }
        if ("1".equals(System.getenv("VIGIL_REQUIRE_HYPERVISOR")) && !ready) {
            fail(why);
        }
        assumeTrue(ready, why);
    }

    @AfterEach
    void removeVms() throws LibvirtException {
        Connect hypervisor = connect();
        for (String uuid : vms) {
            try {
                Domain vm = hypervisor.domainLookupByUUIDString(uuid);
                if (vm.isActive() == 1) {
                    vm.destroy();
                }
                vm.undefine();
            } catch (LibvirtException ignored) {
                // already gone
            }
        }
        for (Connect connection : connections) {
            try {
                connection.close();
            } catch (LibvirtException ignored) {
                // closed by libvirtd
            }
        }
    }

    /** A new connection to the real hypervisor, closed after the test. */
    private Connect connect() throws LibvirtException {
        Connect connection = new Connect(GuestDomain.URI);
        connections.add(connection);
        return connection;
    }

    /** The VM, looked up on a new connection. */
    private Domain vm(String uuid) throws LibvirtException {
        return connect().domainLookupByUUIDString(uuid);
    }

    @Test
    void theVmBootsBeforeItsImageArrivesAndEndsOnTheLocalMasterWithTheGuestsWrites() throws Exception {
        String product = Vendor.product();
        Path image = GuestDomain.bootableImage(
                dir.resolve("boot.raw"),
                IMAGE_BYTES,
                "console=ttyS0 panic=0 vigil.scenario=idle vigil.write=" + WRITE_BLOCK + ":4:171",
                11);
        Vendor.publish(product, image, release());
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Frances Allen");
        // The pull waits long enough for the boot: what the guest reads before then, it read on demand.
        AgentHost host = host(dir.resolve("state"), "PT30S");

        try (Deliveries deliveries = host.deliveries()) {
            Installer.Installation installed = host.enroll(token, connect(), deliveries);
            String vm = installed.vmUuid();
            vms.add(vm);
            Path console = host.state.resolve("vms").resolve(installed.vmUuid()).resolve("console.log");
            Path master =
                    host.state.resolve("images").resolve(product).resolve("1.0").resolve("master.raw");

            assertThat(vm(vm).getXMLDesc(0))
                    .contains("protocol='http'")
                    .contains("<host name='127.0.0.1' port='" + host.settings().get("VIGIL_AGENT_IMAGE_PORT"));
            awaitConsole(console, "vigil-guest: wrote 4 blocks", Duration.ofSeconds(90), host, vm);
            // The license's features reached the guest through its firmware configuration at first boot.
            assertThat(consoleOf(console))
                    .containsPattern("vigil-guest: license product=" + product
                            + " license=[0-9a-f-]{36} features=beta telemetry validUntil=20[0-9-]+T");
            // Booted from what was read on demand: the image is not all here.
            assertThat(master).doesNotExist();
            assertThat(master.resolveSibling("master.raw.part")).exists();

            assertThat(deliveries.await()).isEmpty();
            assertThat(master).hasSameBinaryContentAs(image);
            String xml = vm(vm).getXMLDesc(0);
            assertThat(xml)
                    .doesNotContain("protocol='http'")
                    .contains("disk-local.qcow2")
                    .contains("<source file='" + master + "'");
            assertThat(vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
            assertThat(consoleOf(console)).doesNotContain("I/O error");
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
            vm(vm).destroy();
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
        Vendor.publish(product, image, release());
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Katherine Johnson");
        // The enrolment's own pull would wait ten minutes: it is stopped long before.
        AgentHost host = host(dir.resolve("state"), "PT10M");

        Installer.Installation installed;
        try (Deliveries enrolment = host.deliveries()) {
            installed = host.enroll(token, connect(), enrolment);
            vms.add(installed.vmUuid());
            awaitConsole(
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
        assertThat(vm(vm).getXMLDesc(0)).doesNotContain("protocol='http'").contains("disk-local.qcow2");
        assertThat(vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
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
        Vendor.publish(product, image, release());
        ImageChunker.Chunk victim = chunkHolding(image, kernelOffset(image));
        byte[] genuine = Images.chunk(image, victim);
        byte[] forged = genuine.clone();
        forged[forged.length / 2] ^= 1;
        Images.storeChunk(victim, forged);
        String token = Enrolments.enrol(Enrolments.program(product, "beta"), "Barbara Liskov");
        AgentHost host = host(dir.resolve("state"), "PT1S");

        try (Deliveries deliveries = host.deliveries()) {
            Installer.Installation installed = host.enroll(token, connect(), deliveries);
            String vm = installed.vmUuid();
            vms.add(vm);
            Path console = host.state.resolve("vms").resolve(installed.vmUuid()).resolve("console.log");

            // The boot loader's read of the kernel fails: the VM stops there instead of running altered bytes.
            try {
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> vm(vm).getInfo().state == DomainInfo.DomainState.VIR_DOMAIN_PAUSED);
            } catch (ConditionTimeoutException e) {
                throw new AssertionError("the VM did not pause: " + diagnosis(console, host, vm), e);
            }
            Thread.sleep(2000);
            assertThat(vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_PAUSED);
            assertThat(consoleOf(console)).doesNotContain("Linux version");
            assertThat(host.printed())
                    .contains("offset " + victim.offset())
                    .contains("does not match the signed manifest");

            Images.storeChunk(victim, genuine);
            awaitConsole(console, "vigil-guest: up", Duration.ofSeconds(120), host, vm);
            assertThat(host.printed()).contains("resumed");
            assertThat(deliveries.await()).isEmpty();
            assertThat(host.state
                            .resolve("images")
                            .resolve(product)
                            .resolve("1.0")
                            .resolve("master.raw"))
                    .hasSameBinaryContentAs(image);
            assertThat(vm(vm).getInfo().state).isEqualTo(DomainInfo.DomainState.VIR_DOMAIN_RUNNING);
        }
    }

    private static Map<String, Object> release() {
        Map<String, Object> release = Vendor.release("1.0", "beta");
        release.put("domainTemplate", TEMPLATE);
        release.put(
                "parameters",
                List.of(Map.of(
                        "name", "memoryMiB", "kind", "INTEGER", "defaultValue", "256", "min", 128, "max", 1024)));
        return release;
    }

    private void awaitConsole(Path console, String text, Duration timeout, AgentHost host, String vm) throws Exception {
        try {
            await().atMost(timeout).until(() -> consoleOf(console).contains(text));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no '" + text + "' on the console: " + diagnosis(console, host, vm), e);
        }
    }

    private String diagnosis(Path console, AgentHost host, String vm) throws Exception {
        String text = consoleOf(console);
        return "VM state " + vm(vm).getInfo().state + "; console (" + text.length() + " characters) ends: "
                + text.substring(Math.max(0, text.length() - 1500)) + "\nprinted:\n" + host.printed();
    }

    private static String consoleOf(Path console) throws Exception {
        return Files.exists(console) ? Files.readString(console, StandardCharsets.ISO_8859_1) : "";
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

    private static ImageChunker.Chunk chunkHolding(Path image, long offset) throws Exception {
        try (InputStream in = Files.newInputStream(image)) {
            for (ImageChunker.Chunk chunk : ImageChunker.chunks(in)) {
                if (chunk.offset() <= offset && offset < chunk.offset() + chunk.length()) {
                    return chunk;
                }
            }
        }
        throw new AssertionError("no chunk holds offset " + offset);
    }

    /** A host on the real hypervisor with its own image port, the background pull waiting {@code pullDelay}. */
    private static AgentHost host(Path state, String pullDelay) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        return new AgentHost(
                state,
                Map.of(
                        "VIGIL_AGENT_HYPERVISOR_URI",
                        GuestDomain.URI,
                        "VIGIL_AGENT_IMAGE_PORT",
                        Integer.toString(port),
                        "VIGIL_AGENT_PULL_DELAY",
                        pullDelay));
    }
}
