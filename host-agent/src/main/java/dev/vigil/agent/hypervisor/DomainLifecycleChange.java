package dev.vigil.agent.hypervisor;

import java.time.Instant;

/**
 * A domain lifecycle transition as libvirt reported it, copied out of the native callback.
 *
 * @param state libvirt's event type name (STARTED, SUSPENDED, CRASHED, ...)
 * @param detail libvirt's detail name (BOOTED, WATCHDOG, PANICKED, ...), UNKNOWN when the binding has no name
 * @param discovered true when the agent found the domain already in this state at start-up
 */
public record DomainLifecycleChange(
        String vmUuid, String vmName, String state, String detail, Instant observedAt, boolean discovered)
        implements HypervisorEvent {}
