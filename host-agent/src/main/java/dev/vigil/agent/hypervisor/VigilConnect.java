package dev.vigil.agent.hypervisor;

import com.sun.jna.Pointer;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

/** A libvirt connection that also hands its native pointer to {@link LibvirtNative} for what libvirt-java lacks. */
public final class VigilConnect extends Connect {

    public VigilConnect(String uri) throws LibvirtException {
        super(uri);
    }

    /** Guest memory dump formats (libvirt's virDomainCoreDumpFormat). */
    public enum DumpFormat {
        ELF(0, "elf"),
        KDUMP_ZLIB(1, "kdump-compressed"),
        WIN_DMP(4, "win-dmp");

        final int code;
        private final String format;

        DumpFormat(int code, String format) {
            this.code = code;
            this.format = format;
        }

        /** The artifact format name a manifest carries. */
        public String format() {
            return format;
        }
    }

    private static final int DUMP_MEMORY_ONLY = 16;

    /**
     * Writes the guest's memory to {@code to} in {@code format} (memory only: the guest's RAM, not the device state).
     * The domain keeps its state; hold it still first if it is running.
     */
    public void dumpMemory(String vmUuid, java.nio.file.Path to, DumpFormat format) {
        Pointer dom = LibvirtNative.LIB.virDomainLookupByUUIDString(pointer(), vmUuid);
        if (dom == null) {
            throw new HypervisorException("no domain " + vmUuid + ": " + LibvirtNative.LIB.virGetLastErrorMessage());
        }
        try {
            if (LibvirtNative.LIB.virDomainCoreDumpWithFormat(dom, to.toString(), format.code, DUMP_MEMORY_ONLY) != 0) {
                throw new HypervisorException(
                        format.format + " dump failed: " + LibvirtNative.LIB.virGetLastErrorMessage());
            }
        } finally {
            LibvirtNative.LIB.virDomainFree(dom);
        }
    }

    private static final int STATE_PAUSED = 3;
    private static final int PAUSED_IOERROR = 5;

    /** Whether the domain is paused because a disk read or write failed (libvirt's VIR_DOMAIN_PAUSED_IOERROR). */
    public boolean pausedOnIoError(String vmUuid) {
        int[] state = state(vmUuid);
        return state != null && state[0] == STATE_PAUSED && state[1] == PAUSED_IOERROR;
    }

    /**
     * The domain's state and why it is in it ({@code virDomainGetState}: a {@code virDomainState} and the reason
     * enum of that state), or null when there is no such domain.
     */
    public int[] state(String vmUuid) {
        Pointer dom = LibvirtNative.LIB.virDomainLookupByUUIDString(pointer(), vmUuid);
        if (dom == null) {
            return null;
        }
        try {
            com.sun.jna.ptr.IntByReference state = new com.sun.jna.ptr.IntByReference();
            com.sun.jna.ptr.IntByReference reason = new com.sun.jna.ptr.IntByReference();
            return LibvirtNative.LIB.virDomainGetState(dom, state, reason, 0) == 0
                    ? new int[] {state.getValue(), reason.getValue()}
                    : null;
        } finally {
            LibvirtNative.LIB.virDomainFree(dom);
        }
    }

    /** The {@code virConnectPtr}; valid until {@link #close()}. */
    Pointer pointer() {
        return vcp.getPointer();
    }
}
