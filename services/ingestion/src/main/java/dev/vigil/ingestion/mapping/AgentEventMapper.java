package dev.vigil.ingestion.mapping;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.Delivery;
import dev.vigil.schemas.agent.DeliveryStep;
import dev.vigil.schemas.agent.Hang;
import dev.vigil.schemas.agent.IoError;
import dev.vigil.schemas.agent.IoErrorAction;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.Watchdog;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.crash.IncidentTrigger;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.avro.specific.SpecificRecord;

/** Maps a validated {@link AgentEvent} to what ingestion records. */
@ApplicationScoped
public class AgentEventMapper {

    static final int MAX_SUMMARY = 2_000;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The trigger of an incident the vendor's interrupt opened. */
    public static final String INTERRUPT = "INTERRUPT";

    public RecordedEvent toRecorded(AgentEvent event, String topic, int partition, long offset) {
        Envelope envelope = event.getEnvelope();
        SpecificRecord payload = (SpecificRecord) event.getPayload();
        Lifecycle lifecycle = payload instanceof Lifecycle l ? l : null;
        String summary = summary(payload);
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
                event.getVm() == null ? null : event.getVm().getProduct(),
                event.getVm() == null ? null : event.getVm().getRelease(),
                lifecycle == null ? null : lifecycle.getState().name(),
                lifecycle == null ? null : lifecycle.getReason(),
                envelope.getOccurredAt(),
                summary,
                topic,
                partition,
                offset,
                trigger(payload),
                payload instanceof Crash crash && crash.getPanic() != null);
    }

    /**
     * The payload as JSON (Avro's own rendering); one longer than {@link #MAX_SUMMARY} characters becomes {@code
     * {"truncated": true, "length": N, "text": "<its start>"}}, still JSON.
     */
    static String summary(SpecificRecord payload) {
        String summary = payload.toString();
        if (summary.length() <= MAX_SUMMARY) {
            return summary;
        }
        ObjectNode cut = JSON.createObjectNode();
        cut.put("truncated", true);
        cut.put("length", summary.length());
        cut.put("text", summary.substring(0, MAX_SUMMARY - 200));
        return cut.toString();
    }

    /**
     * The kind of incident an event opens: a crash, a hang, a watchdog firing, or an I/O error the hypervisor paused
     * the guest on (errors reported to the guest are the guest's to handle and are only recorded), or the vendor's
     * interrupt of a VM.
     */
    static String trigger(SpecificRecord payload) {
        if (payload instanceof Crash) {
            return IncidentTrigger.CRASH.name();
        }
        if (payload instanceof Hang) {
            return IncidentTrigger.HANG.name();
        }
        if (payload instanceof Watchdog) {
            return IncidentTrigger.WATCHDOG.name();
        }
        if (payload instanceof IoError io && io.getAction() == IoErrorAction.PAUSE) {
            return IncidentTrigger.IO_ERROR.name();
        }
        if (payload instanceof Delivery delivery && delivery.getStep() == DeliveryStep.INTERRUPTED) {
            // The VM's state as the vendor's interrupt found it: kept with its evidence, not a crash to triage.
            return INTERRUPT;
        }
        return null;
    }
}
