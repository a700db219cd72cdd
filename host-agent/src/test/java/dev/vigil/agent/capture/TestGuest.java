package dev.vigil.agent.capture;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * A tiny Linux guest on the real hypervisor (libvirtd + QEMU under TCG), built by {@code devstack/hypervisor/setup}:
 * a Debian kernel and a busybox initramfs whose init panics, trips its watchdog or fills its disk on request. Its
 * disk is a qcow2 overlay on a raw master image, as a vendor's beta VM is.
 */
final class TestGuest implements AutoCloseable {

    static final String URI = "qemu:///system";
    static final Path GUEST_DIR = Path.of(System.getenv().getOrDefault("VIGIL_GUEST_DIR", "/var/cache/vigil-guest"));
    static final long MASTER_BYTES = 32L << 20;

    final Path dir;
    final Path master;
    final Path overlay;
    final Path console;
    final String name;
    private final List<Runnable> cleanups = new ArrayList<>();
    private Connect connect;
    private Domain domain;

    /**
     * Skips the calling test when the machine has no real hypervisor, unless {@code VIGIL_REQUIRE_HYPERVISOR=1}
     * (CI sets it after running the setup), in which case a missing hypervisor fails the test.
     */
    static void requireHypervisor() {
        boolean ready = Files.exists(GUEST_DIR.resolve("ready"));
        String why = "no test guest in " + GUEST_DIR + ": run devstack/hypervisor/setup (as root)";
        if (ready) {
            try {
                new Connect(URI).close();
            } catch (LibvirtException e) {
                ready = false;
                why = "libvirtd does not answer on " + URI + " (" + e.getMessage() + "): run devstack/hypervisor/setup";
            }
        }
        if ("1".equals(System.getenv("VIGIL_REQUIRE_HYPERVISOR")) && !ready) {
            fail(why);
        }
        assumeTrue(ready, why);
    }

    TestGuest(String scenario) throws IOException, InterruptedException {
        this.name = "vigil-it-" + scenario + "-" + UUID.randomUUID().toString().substring(0, 8);
        this.dir = Files.createTempDirectory("vigil-guest-");
        this.master = dir.resolve("master.raw");
        this.overlay = dir.resolve("overlay.qcow2");
        this.console = dir.resolve("console.log");
        try (var file = new java.io.RandomAccessFile(master.toFile(), "rw")) {
            file.setLength(MASTER_BYTES);
            file.seek(4096);
            file.write("the vendor's master image".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", master.toString(), overlay.toString());
    }

    /** The domain definition: kernel command line {@code vigil.*} arguments pick the scenario. */
    String xml(String cmdline, String diskXml, String extraDevices) {
        return """
                <domain type='qemu'>
                  <name>%s</name>
                  <memory unit='MiB'>256</memory>
                  <vcpu>1</vcpu>
                  <metadata><vigil:image xmlns:vigil="urn:vigil:image:1" product="TinyLinux" release="6.1-it"/></metadata>
                  <os><type arch='x86_64' machine='pc'>hvm</type>
                    <kernel>%s</kernel><initrd>%s</initrd>
                    <cmdline>console=ttyS0 panic=0 %s</cmdline></os>
                  <features><acpi/><vmcoreinfo state='on'/></features>
                  <on_crash>preserve</on_crash>
                  <devices>
                    %s
                    <serial type='file'><source path='%s'/><target port='0'/></serial>
                    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
                    <video><model type='vga'/></video>
                    <panic model='isa'/>
                    %s
                  </devices>
                </domain>
                """.formatted(
                        name,
                        GUEST_DIR.resolve("vmlinuz"),
                        GUEST_DIR.resolve("initrd.img"),
                        cmdline,
                        diskXml,
                        console,
                        extraDevices);
    }

    /** A qcow2 overlay disk whose errors pause the VM. */
    String overlayDisk() {
        return "<disk type='file' device='disk'><driver name='qemu' type='qcow2' error_policy='stop'/>"
                + "<source file='" + overlay + "'/><target dev='vda' bus='virtio'/></disk>";
    }

    Domain start(String xml) throws LibvirtException {
        connect = new Connect(URI);
        domain = connect.domainDefineXML(xml);
        domain.create();
        return domain;
    }

    void onClose(Runnable cleanup) {
        cleanups.add(cleanup);
    }

    String consoleText() throws IOException {
        return Files.exists(console) ? Files.readString(console) : "";
    }

    static void run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + output);
        }
    }

    @Override
    public void close() throws Exception {
        if (domain != null) {
            try {
                if (domain.isActive() == 1) {
                    domain.destroy();
                }
            } catch (LibvirtException ignored) {
                // already gone
            }
            try {
                for (String snapshot : domain.snapshotListNames()) {
                    // Metadata only: the overlay files go with the temporary directories.
                    domain.snapshotLookupByName(snapshot).delete(2);
                }
                domain.undefine();
            } catch (LibvirtException ignored) {
                // already gone
            }
            connect.close();
        }
        cleanups.forEach(Runnable::run);
        ArtifactStage.deleteTree(dir);
    }
}
