package dev.vigil.agent.mapping;

import dev.vigil.agent.hypervisor.DomainLifecycleChange;
import dev.vigil.agent.hypervisor.GuestPanic;
import dev.vigil.agent.hypervisor.HypervisorEvent;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentStatus;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.BlockThreshold;
import dev.vigil.schemas.agent.ConnectionState;
import dev.vigil.schemas.agent.ConnectionStatus;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.Hang;
import dev.vigil.schemas.agent.HangDetector;
import dev.vigil.schemas.agent.IoError;
import dev.vigil.schemas.agent.IoErrorAction;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.agent.MemoryFailure;
import dev.vigil.schemas.agent.MemoryFailureAction;
import dev.vigil.schemas.agent.MemoryFailureRecipient;
import dev.vigil.schemas.agent.Watchdog;
import dev.vigil.schemas.agent.WatchdogAction;
import dev.vigil.schemas.common.PanicInfo;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.time.Instant;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/** Turns what the agent observed into {@code vigil.agent.events.v1} records with a filled envelope. */
public final class AgentEventMapper {

    private final Source source;
    private final String tenant;
    private final ImageLabels images;

    public AgentEventMapper(String hostId, String agentId, String agentVersion, String tenant) {
        this(hostId, agentId, agentVersion, tenant, ImageLabels.NONE);
    }

    public AgentEventMapper(String hostId, String agentId, String agentVersion, String tenant, ImageLabels images) {
        this.images = images;
        this.source = Source.newBuilder()
                .setHostId(hostId)
                .setAgentId(agentId)
                .setAgentVersion(agentVersion)
                .build();
        this.tenant = tenant;
    }

    public AgentEvent lifecycle(DomainLifecycleChange change) {
        LifecycleState state = lifecycleState(change.state());
        Lifecycle payload = Lifecycle.newBuilder()
                .setState(state)
                .setReason(change.detail())
                // A pause can be the first sign of a crash a few milliseconds later: not the VM's final word.
                .setSettled(state != LifecycleState.SUSPENDED)
                .build();
        return event(payload, change.observedAt(), vmRef(change.vmUuid(), change.vmName()));
    }

    /**
     * A crash the agent did not see happen: the VM was found crashed (preserved) when the agent started, and nothing
     * says it was captured. Its time is when it was found; the reason says so.
     */
    public AgentEvent crashFoundAtStart(DomainLifecycleChange found) {
        Crash crash = Crash.newBuilder()
                .setReason("FOUND_CRASHED_AT_AGENT_START")
                .setPanic(null)
                .build();
        return event(crash, found.observedAt(), vmRef(found.vmUuid(), found.vmName()));
    }

    /** The events one hypervisor report becomes (a crash is also a {@code Crash} event for incident correlation). */
    public List<AgentEvent> fromHypervisor(HypervisorEvent event) {
        VmRef vm = vmRef(event.vmUuid(), event.vmName());
        if (event instanceof DomainLifecycleChange change) {
            AgentEvent lifecycle = lifecycle(change);
            if (lifecycleState(change.state()) == LifecycleState.CRASHED && !change.discovered()) {
                Crash crash = Crash.newBuilder()
                        .setReason(change.detail())
                        .setPanic(null)
                        .build();
                return List.of(lifecycle, event(crash, change.observedAt(), vm));
            }
            return List.of(lifecycle);
        }
        SpecificRecord payload;
        if (event instanceof GuestPanic panic) {
            payload = Crash.newBuilder()
                    .setReason("GUEST_PANICKED")
                    .setPanic(PanicInfo.newBuilder()
                            .setPanicType(panic.type())
                            .setBugcheckCode(panic.bugcheckCode())
                            .setBugcheckParameters(panic.bugcheckParameters())
                            .setInstructionPointer(panic.instructionPointer())
                            .setStackPointer(null)
                            .setMessage(panic.message())
                            .build())
                    .build();
        } else if (event instanceof HypervisorEvent.Watchdog w) {
            payload =
                    Watchdog.newBuilder().setAction(watchdogAction(w.action())).build();
        } else if (event instanceof HypervisorEvent.IoError e) {
            payload = IoError.newBuilder()
                    .setDevice(e.device())
                    .setPath(e.path())
                    .setAction(ioErrorAction(e.action()))
                    .setReason(e.reason())
                    .build();
        } else if (event instanceof HypervisorEvent.BlockThreshold b) {
            payload = BlockThreshold.newBuilder()
                    .setDevice(b.device())
                    .setPath(b.path())
                    .setThresholdBytes(b.threshold())
                    .setExcessBytes(b.excess())
                    .build();
        } else {
            HypervisorEvent.MemoryFailure m = (HypervisorEvent.MemoryFailure) event;
            payload = MemoryFailure.newBuilder()
                    .setRecipient(
                            m.recipient() == 0
                                    ? MemoryFailureRecipient.HYPERVISOR
                                    : m.recipient() == 1
                                            ? MemoryFailureRecipient.GUEST
                                            : MemoryFailureRecipient.UNKNOWN)
                    .setAction(memoryFailureAction(m.action()))
                    .setActionRequired((m.flags() & MEMORY_FAILURE_ACTION_REQUIRED) != 0)
                    .setRecursive((m.flags() & MEMORY_FAILURE_RECURSIVE) != 0)
                    .build();
        }
        return List.of(event(payload, event.observedAt(), vm));
    }

    public AgentEvent hang(String vmUuid, String vmName, HangDetector detector, long stalledMillis, String detail) {
        Hang payload = Hang.newBuilder()
                .setDetector(detector)
                .setStalledMillis(stalledMillis)
                .setDetail(detail)
                .build();
        return event(payload, Instant.now(), vmRef(vmUuid, vmName));
    }

    /**
     * A delivery's report (a {@code Delivery} step or a {@code Conformity} finding) as an event about a VM, or about
     * the host when {@code vmUuid} is null (a download before its VM exists).
     */
    public AgentEvent delivery(String vmUuid, String vmName, SpecificRecord payload) {
        return event(payload, Instant.now(), vmUuid == null ? null : vmRef(vmUuid, vmName));
    }

    public AgentEvent connection(ConnectionState state, String hypervisorUri, String reason) {
        ConnectionStatus payload = ConnectionStatus.newBuilder()
                .setState(state)
                .setHypervisorUri(hypervisorUri)
                .setReason(reason)
                .build();
        return event(payload, Instant.now(), null);
    }

    /** A reference to a VM with the product and release its master image declares, when it declares them. */
    public VmRef vmRef(String vmUuid, String vmName) {
        ImageLabel image = images.of(vmUuid);
        return VmRef.newBuilder()
                .setUuid(vmUuid)
                .setName(vmName)
                .setProduct(image.product())
                .setRelease(image.release())
                .build();
    }

    /** The envelope source every record from this agent carries. */
    public Source source() {
        return source;
    }

    public String tenant() {
        return tenant;
    }

    public AgentEvent agentStatus(AgentStatusKind status, String hypervisorUri, int domainsWatched) {
        AgentStatus payload = AgentStatus.newBuilder()
                .setStatus(status)
                .setHypervisorUri(hypervisorUri)
                .setDomainsWatched(domainsWatched)
                .build();
        return event(payload, Instant.now(), null);
    }

    /** The key of an event on its topic: the VM's UUID, or the host id for host-level events. */
    public String key(AgentEvent event) {
        return event.getVm() == null ? source.getHostId() : event.getVm().getUuid();
    }

    private AgentEvent event(SpecificRecord payload, Instant occurredAt, VmRef vm) {
        return AgentEvent.newBuilder()
                .setEnvelope(Envelopes.create(AgentEvent.class, payload.getSchema(), source, tenant, occurredAt))
                .setVm(vm)
                .setPayload(payload)
                .build();
    }

    // libvirt's virDomainEventWatchdogAction, virDomainEventIOErrorAction, virDomainMemoryFailureActionType and
    // virDomainMemoryFailureFlags values, in declaration order.
    private static final WatchdogAction[] WATCHDOG_ACTIONS = {
        WatchdogAction.NONE,
        WatchdogAction.PAUSE,
        WatchdogAction.RESET,
        WatchdogAction.POWEROFF,
        WatchdogAction.SHUTDOWN,
        WatchdogAction.DEBUG,
        WatchdogAction.INJECTNMI
    };
    private static final IoErrorAction[] IO_ERROR_ACTIONS = {
        IoErrorAction.NONE, IoErrorAction.PAUSE, IoErrorAction.REPORT
    };
    private static final MemoryFailureAction[] MEMORY_FAILURE_ACTIONS = {
        MemoryFailureAction.IGNORE, MemoryFailureAction.INJECT, MemoryFailureAction.FATAL, MemoryFailureAction.RESET
    };
    private static final int MEMORY_FAILURE_ACTION_REQUIRED = 1;
    private static final int MEMORY_FAILURE_RECURSIVE = 2;

    static WatchdogAction watchdogAction(int action) {
        return action >= 0 && action < WATCHDOG_ACTIONS.length ? WATCHDOG_ACTIONS[action] : WatchdogAction.UNKNOWN;
    }

    static IoErrorAction ioErrorAction(int action) {
        return action >= 0 && action < IO_ERROR_ACTIONS.length ? IO_ERROR_ACTIONS[action] : IoErrorAction.UNKNOWN;
    }

    static MemoryFailureAction memoryFailureAction(int action) {
        return action >= 0 && action < MEMORY_FAILURE_ACTIONS.length
                ? MEMORY_FAILURE_ACTIONS[action]
                : MemoryFailureAction.UNKNOWN;
    }

    static LifecycleState lifecycleState(String libvirtType) {
        try {
            return LifecycleState.valueOf(libvirtType);
        } catch (IllegalArgumentException e) {
            return LifecycleState.UNKNOWN;
        }
    }
}
