package dev.vigil.schemas;

import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.time.Instant;

/** Test fixtures: well-formed agent events. */
final class AgentEvents {

    private AgentEvents() {}

    static AgentEvent lifecycle(LifecycleState state, String reason) {
        Lifecycle payload = Lifecycle.newBuilder()
                .setState(state)
                .setReason(reason)
                .setSettled(true)
                .build();
        Source source = Source.newBuilder()
                .setHostId("host-1")
                .setAgentId("agent-1")
                .setAgentVersion("0.1.0")
                .build();
        return AgentEvent.newBuilder()
                .setEnvelope(Envelopes.create(
                        AgentEvent.class, payload.getSchema(), source, "acme", Instant.parse("2026-11-24T10:15:30Z")))
                .setVm(VmRef.newBuilder()
                        .setUuid("6695eb01-f6a4-8304-79aa-97f2502e193f")
                        .setName("web-1")
                        .build())
                .setPayload(payload)
                .build();
    }
}
