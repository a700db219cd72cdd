package dev.vigil.ingestion.mapping;

import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.common.Envelope;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.avro.specific.SpecificRecord;

/** Maps a validated {@link AgentEvent} to what ingestion records. */
@ApplicationScoped
public class AgentEventMapper {

    static final int MAX_SUMMARY = 2_000;

    public RecordedEvent toRecorded(AgentEvent event, String topic, int partition, long offset) {
        Envelope envelope = event.getEnvelope();
        SpecificRecord payload = (SpecificRecord) event.getPayload();
        Lifecycle lifecycle = payload instanceof Lifecycle l ? l : null;
        String summary = payload.toString();
        return new RecordedEvent(
                envelope.getEventId(),
                envelope.getEventType(),
                payload.getSchema().getName(),
                envelope.getTenant(),
                envelope.getSource().getHostId(),
                envelope.getSource().getAgentId(),
                envelope.getSource().getAgentVersion(),
                event.getVm() == null ? null : event.getVm().getUuid(),
                event.getVm() == null ? null : event.getVm().getName(),
                lifecycle == null ? null : lifecycle.getState().name(),
                lifecycle == null ? null : lifecycle.getReason(),
                envelope.getOccurredAt(),
                summary.length() > MAX_SUMMARY ? summary.substring(0, MAX_SUMMARY) : summary,
                topic,
                partition,
                offset);
    }
}
