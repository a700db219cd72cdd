package dev.vigil.local;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.GuestDomain;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/**
 * VMs of the local run on the real hypervisor ({@code devstack/hypervisor/setup}'s tiny Linux guest under QEMU), each
 * booted into a scenario: idle, panic, hang, watchdog or a full disk. Each lives under {@code <work>/guests/NAME}; the
 * run removes them when it stops (and any a killed run left behind when it starts), so no QEMU outlives it.
 */
final class RealGuests {

    static final String URI = GuestDomain.URI;
    /** The watchdog scenario arms it; the others never do. */
    private static final String WATCHDOG = "<watchdog model='i6300esb' action='pause'/>";

    private final Connect hypervisor;
    private final Path dir;
    private final Path diskfullDir;

    RealGuests(Connect hypervisor, Path dir, Path diskfullDir) {
        this.hypervisor = hypervisor;
        this.dir = dir;
        this.diskfullDir = diskfullDir;
    }

    /** True when the setup has built the guest here and libvirtd answers. */
    static boolean available() {
        return GuestDomain.unavailable() == null;
    }

    /**
     * Boots VM {@code name} into {@code scenario} (the guest's {@code vigil.scenario}); a running VM of that name is
     * stopped first, so {@code crash web-2} crashes web-2. Returns its UUID.
     */
    String boot(String name, String scenario) throws LibvirtException, IOException, InterruptedException {
        Path home = dir.resolve(name);
        if ("diskfull".equals(scenario)) {
            if (diskfullDir == null) {
                throw new IllegalStateException("a full disk needs a small file system for the VM's disk, not this"
                        + " machine's, smaller than the VM's 32 MiB disk: make one (sudo mount -t tmpfs -o"
                        + " size=16m,mode=1777 tmpfs /mnt/vigil-full) and restart with"
                        + " VIGIL_LOCAL_DISKFULL_DIR=/mnt/vigil-full");
            }
            home = diskfullDir.resolve(name);
        }
        GuestDomain guest = GuestDomain.named(name, home);
        Domain existing = lookup(name);
        if (existing != null) {
            if (existing.isActive() == 1) {
                existing.destroy();
            }
            existing.undefine(2 /* VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA: the agent's snapshots go too */);
        }
        Devstack.deleteTree(home);
        Files.createDirectories(home);
        guest.createDisks();
        Domain domain = hypervisor.domainDefineXML(
                guest.xml("vigil.scenario=" + scenario + " vigil.delay=2", guest.overlayDisk(), WATCHDOG));
        domain.create();
        Files.writeString(dir.resolve(name + ".vm"), home.toString());
        return domain.getUUIDString();
    }

    /** Stops and forgets every VM this run (or a run before it) booted. */
    void removeAll() {
        try (var files = Files.list(dir)) {
            for (Path marker : files.filter(f -> f.toString().endsWith(".vm")).toList()) {
                String name = marker.getFileName().toString().replaceFirst("\\.vm$", "");
                try {
                    Domain domain = lookup(name);
                    if (domain != null) {
                        if (domain.isActive() == 1) {
                            domain.destroy();
                        }
                        domain.undefine(2 /* VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA */);
                    }
                    Devstack.deleteTree(Path.of(Files.readString(marker).trim()));
                    Files.delete(marker);
                } catch (LibvirtException | IOException e) {
                    System.err.println("vigil: could not remove VM " + name + ": " + e.getMessage());
                }
            }
        } catch (IOException e) {
            // No guests directory yet: nothing was booted.
        }
    }

    /** The names of the VMs booted here. */
    List<String> names() {
        List<String> names = new ArrayList<>();
        try (var files = Files.list(dir)) {
            files.filter(f -> f.toString().endsWith(".vm"))
                    .forEach(f -> names.add(f.getFileName().toString().replaceFirst("\\.vm$", "")));
        } catch (IOException e) {
            // None.
        }
        return names;
    }

    private Domain lookup(String name) {
        try {
            return hypervisor.domainLookupByName(name);
        } catch (LibvirtException e) {
            return null;
        }
    }
}
