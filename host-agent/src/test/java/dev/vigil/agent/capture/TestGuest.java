package dev.vigil.agent.capture;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.vigil.devstack.Domains;
import dev.vigil.devstack.GuestDomain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/** A {@link GuestDomain} started on the real hypervisor for one test, and everything removed after it. */
final class TestGuest implements AutoCloseable {

    static final String URI = GuestDomain.URI;
    static final Path GUEST_DIR = GuestDomain.GUEST_DIR;

    final GuestDomain definition;
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
        this.dir = Files.createTempDirectory("vigil-guest-");
        this.definition = new GuestDomain("it-" + scenario, dir);
        this.name = definition.name();
        this.master = definition.master();
        this.overlay = definition.overlay();
        this.console = definition.console();
        definition.createDisks();
    }

    String xml(String cmdline, String diskXml, String extraDevices) {
        return definition.xml(cmdline, diskXml, extraDevices);
    }

    String overlayDisk() {
        return definition.overlayDisk();
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
        GuestDomain.run(command);
    }

    @Override
    public void close() throws Exception {
        if (domain != null) {
            String uuid = domain.getUUIDString();
            // A fresh connection: the one that started the guest may have been closed by libvirt's keepalive while
            // the test waited without an event loop in this JVM (agents in other processes).
            Connect fresh = new Connect(URI);
            try {
                Domains.remove(fresh.domainLookupByUUIDString(uuid));
            } catch (LibvirtException e) {
                System.err.println("test guest " + name + " was not removed: " + e.getMessage());
            } finally {
                fresh.close();
            }
            try {
                connect.close();
            } catch (LibvirtException ignored) {
                // closed by the keepalive already
            }
        }
        cleanups.forEach(Runnable::run);
        ArtifactStage.deleteTree(dir);
    }
}
