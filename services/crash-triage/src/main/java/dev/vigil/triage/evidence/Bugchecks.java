package dev.vigil.triage.evidence;

import java.util.Map;

/** Names of the common Windows bugcheck (STOP) codes. */
public final class Bugchecks {

    private static final Map<Long, String> NAMES = Map.ofEntries(
            Map.entry(0x0AL, "IRQL_NOT_LESS_OR_EQUAL"),
            Map.entry(0x1AL, "MEMORY_MANAGEMENT"),
            Map.entry(0x1EL, "KMODE_EXCEPTION_NOT_HANDLED"),
            Map.entry(0x3BL, "SYSTEM_SERVICE_EXCEPTION"),
            Map.entry(0x50L, "PAGE_FAULT_IN_NONPAGED_AREA"),
            Map.entry(0x7AL, "KERNEL_DATA_INPAGE_ERROR"),
            Map.entry(0x7BL, "INACCESSIBLE_BOOT_DEVICE"),
            Map.entry(0x7EL, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"),
            Map.entry(0x7FL, "UNEXPECTED_KERNEL_MODE_TRAP"),
            Map.entry(0x9FL, "DRIVER_POWER_STATE_FAILURE"),
            Map.entry(0xC2L, "BAD_POOL_CALLER"),
            Map.entry(0xC5L, "DRIVER_CORRUPTED_EXPOOL"),
            Map.entry(0xD1L, "DRIVER_IRQL_NOT_LESS_OR_EQUAL"),
            Map.entry(0xEFL, "CRITICAL_PROCESS_DIED"),
            Map.entry(0xF4L, "CRITICAL_OBJECT_TERMINATION"),
            Map.entry(0x101L, "CLOCK_WATCHDOG_TIMEOUT"),
            Map.entry(0x116L, "VIDEO_TDR_FAILURE"),
            Map.entry(0x124L, "WHEA_UNCORRECTABLE_ERROR"),
            Map.entry(0x133L, "DPC_WATCHDOG_VIOLATION"),
            Map.entry(0x139L, "KERNEL_SECURITY_CHECK_FAILURE"),
            Map.entry(0x13AL, "KERNEL_MODE_HEAP_CORRUPTION"),
            Map.entry(0xE2L, "MANUALLY_INITIATED_CRASH"));

    private Bugchecks() {}

    /** The code's name, or null when it is not one of the common codes. */
    public static String name(long code) {
        return NAMES.get(code);
    }
}
