package dev.vigil.agent.hypervisor;

import java.time.Instant;

/** Something the hypervisor reported about a domain, copied out of a native callback. */
public sealed interface HypervisorEvent
        permits DomainLifecycleChange,
                GuestPanic,
                HypervisorEvent.Watchdog,
                HypervisorEvent.IoError,
                HypervisorEvent.BlockThreshold,
                HypervisorEvent.MemoryFailure {

    String vmUuid();

    String vmName();

    Instant observedAt();

    /** The guest's watchdog expired; {@code action} is libvirt's virDomainEventWatchdogAction. */
    record Watchdog(String vmUuid, String vmName, int action, Instant observedAt) implements HypervisorEvent {}

    /** A disk I/O error; {@code reason} is QEMU's text such as {@code enospc}. */
    record IoError(
            String vmUuid, String vmName, String path, String device, int action, String reason, Instant observedAt)
            implements HypervisorEvent {}

    /** A disk's write threshold was crossed (thin provisioning about to run out). */
    record BlockThreshold(
            String vmUuid, String vmName, String device, String path, long threshold, long excess, Instant observedAt)
            implements HypervisorEvent {}

    /** A memory failure (hardware poison) was reported for the guest or the hypervisor. */
    record MemoryFailure(String vmUuid, String vmName, int recipient, int action, int flags, Instant observedAt)
            implements HypervisorEvent {}
}
