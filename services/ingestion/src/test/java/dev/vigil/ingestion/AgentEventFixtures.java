package dev.vigil.ingestion;

import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.time.Instant;

/** Agent events as an agent would publish them, and ways to break them. */
public final class AgentEventFixtures {

    private AgentEventFixtures() {}

    public static AgentEvent lifecycle(String vmUuid, LifecycleState state, String reason, Instant occurredAt) {
        Lifecycle payload = Lifecycle.newBuilder()
                .setState(state)
                .setReason(reason)
                .setSettled(true)
                .build();
        Source source = Source.newBuilder()
                .setHostId("host-fixture")
                .setAgentId("host-fixture-agent")
                .setAgentVersion("0.1.0")
                .build();
        return AgentEvent.newBuilder()
                .setEnvelope(Envelopes.create(AgentEvent.class, payload.getSchema(), source, "acme", occurredAt))
                .setVm(VmRef.newBuilder()
                        .setUuid(vmUuid)
                        .setName("vm-" + vmUuid.substring(0, 8))
                        .build())
                .setPayload(payload)
                .build();
    }

    public static byte[] encode(AgentEvent event) {
        return EventCodec.of(AgentEvent.class).encode(event);
    }
}
