package dev.vigil.agent.hypervisor;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/**
 * The libvirt calls of a sampling tick, through JNA's direct mapping: a native method per function instead of the
 * interface mapping's proxy and reflection, which cost 2-4 µs a call (about 150 calls a tick for 50 VMs). Only
 * primitive, {@link Pointer} and primitive-array arguments, so that no call converts types.
 */
final class LibvirtDirect {

    static {
        Native.register(LibvirtDirect.class, "virt");
    }

    private LibvirtDirect() {}

    /** @param records where libvirt writes the pointer to its record array (8 bytes of native memory) */
    static native int virConnectGetAllDomainStats(Pointer conn, int stats, Pointer records, int flags);

    static native void virDomainStatsRecordListFree(Pointer records);

    /** @param buffer at least 37 bytes: the UUID's 36 characters and a NUL */
    static native int virDomainGetUUIDString(Pointer dom, byte[] buffer);

    /** The domain's name, owned by the domain object (never freed by the caller). */
    static native Pointer virDomainGetName(Pointer dom);

    static native int virDomainGetInfo(Pointer dom, Pointer info);
}
