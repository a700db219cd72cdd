package dev.vigil.agent.mapping;

import dev.vigil.agent.hypervisor.DomainLifecycleChange;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentStatus;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.time.Instant;
import org.apache.avro.specific.SpecificRecord;

/** Turns what the agent observed into {@code vigil.agent.events.v1} records with a filled envelope. */
public final class AgentEventMapper {

    private final Source source;
    private final String tenant;

    public AgentEventMapper(String hostId, String agentId, String agentVersion, String tenant) {
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
        return event(
                payload,
                change.observedAt(),
                VmRef.newBuilder()
                        .setUuid(change.vmUuid())
                        .setName(change.vmName())
                        .build());
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

    static LifecycleState lifecycleState(String libvirtType) {
        try {
            return LifecycleState.valueOf(libvirtType);
        } catch (IllegalArgumentException e) {
            return LifecycleState.UNKNOWN;
        }
    }
}
