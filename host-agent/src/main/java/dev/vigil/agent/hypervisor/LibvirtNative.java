package dev.vigil.agent.hypervisor;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The parts of libvirt's C API that libvirt-java 0.5.4 does not bind, on the same {@code libvirt.so.0}. Callback
 * objects must stay strongly referenced while registered: libvirt keeps only their native address.
 */
interface LibvirtNative extends Library {

    LibvirtNative LIB = Native.load("virt", LibvirtNative.class);

    int EVENT_ID_WATCHDOG = 3;
    int EVENT_ID_IO_ERROR_REASON = 6;
    int EVENT_ID_BLOCK_THRESHOLD = 24;
    int EVENT_ID_MEMORY_FAILURE = 25;

    /** Size of {@code virTypedParameter} on x86-64: field[80], int type at 80, union value at 88. */
    int TYPED_PARAM_BYTES = 96;

    int TYPED_PARAM_INT = 1;
    int TYPED_PARAM_UINT = 2;
    int TYPED_PARAM_LLONG = 3;
    int TYPED_PARAM_ULLONG = 4;
    int TYPED_PARAM_DOUBLE = 5;
    int TYPED_PARAM_BOOLEAN = 6;
    int TYPED_PARAM_STRING = 7;

    int virConnectDomainEventRegisterAny(
            Pointer conn, Pointer dom, int eventId, Callback callback, Pointer opaque, Pointer freeCallback);

    int virConnectDomainEventDeregisterAny(Pointer conn, int callbackId);

    String virDomainGetName(Pointer dom);

    Pointer virDomainLookupByName(Pointer conn, String name);

    Pointer virDomainLookupByUUIDString(Pointer conn, String uuid);

    int virDomainFree(Pointer dom);

    int virDomainGetUUIDString(Pointer dom, byte[] buffer);

    /** Fills a 40-byte {@code virDomainInfo}: state u8 at 0, maxMem at 8, memory at 16, nrVirtCpu at 24, cpuTime at 32. */
    int virDomainGetInfo(Pointer dom, Pointer info);

    int virDomainGetState(Pointer dom, IntByReference state, IntByReference reason, int flags);

    int virConnectGetAllDomainStats(Pointer conn, int stats, PointerByReference records, int flags);

    void virDomainStatsRecordListFree(Pointer records);

    /** virDomainCoreDumpWithFormat: {@code format} is a virDomainCoreDumpFormat, {@code flags} virDomainCoreDumpFlags. */
    int virDomainCoreDumpWithFormat(Pointer dom, String to, int format, int flags);

    /** The calling thread's last libvirt error message (never null). */
    String virGetLastErrorMessage();

    /** VIR_DOMAIN_EVENT_ID_WATCHDOG. */
    interface WatchdogCallback extends Callback {
        void invoke(Pointer conn, Pointer dom, int action, Pointer opaque);
    }

    /** VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON. */
    interface IoErrorReasonCallback extends Callback {
        void invoke(
                Pointer conn, Pointer dom, String srcPath, String devAlias, int action, String reason, Pointer opaque);
    }

    /** VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD. */
    interface BlockThresholdCallback extends Callback {
        void invoke(Pointer conn, Pointer dom, String dev, String path, long threshold, long excess, Pointer opaque);
    }

    /** VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE. */
    interface MemoryFailureCallback extends Callback {
        void invoke(Pointer conn, Pointer dom, int recipient, int action, int flags, Pointer opaque);
    }
}
