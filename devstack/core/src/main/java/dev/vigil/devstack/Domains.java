package dev.vigil.devstack;

import org.libvirt.Domain;
import org.libvirt.LibvirtException;

/** Removing the VMs that tests and benchmarks define on the real hypervisor, so none outlives its run. */
public final class Domains {

    /** {@code VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY}: the overlay files go with the run's directory. */
    private static final int SNAPSHOT_METADATA_ONLY = 2;

    private Domains() {}

    /**
     * Stops the VM if it runs and undefines it. libvirt refuses to undefine a VM that has snapshots (the agent's
     * failure and update snapshots), so their metadata goes first.
     */
    public static void remove(Domain domain) throws LibvirtException {
        if (domain.isActive() == 1) {
            domain.destroy();
        }
        for (String snapshot : domain.snapshotListNames()) {
            domain.snapshotLookupByName(snapshot).delete(SNAPSHOT_METADATA_ONLY);
        }
        domain.undefine();
    }
}
