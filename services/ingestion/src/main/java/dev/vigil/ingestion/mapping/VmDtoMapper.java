package dev.vigil.ingestion.mapping;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.ingestion.api.ArtifactDto;
import dev.vigil.ingestion.api.EventDto;
import dev.vigil.ingestion.api.FeedbackDto;
import dev.vigil.ingestion.api.HostDto;
import dev.vigil.ingestion.api.IncidentDto;
import dev.vigil.ingestion.api.VmDto;
import dev.vigil.ingestion.persistence.AgentEventEntity;
import dev.vigil.ingestion.persistence.ArtifactEntity;
import dev.vigil.ingestion.persistence.FeedbackEntity;
import dev.vigil.ingestion.persistence.HostEntity;
import dev.vigil.ingestion.persistence.IncidentEntity;
import dev.vigil.ingestion.persistence.VmEntity;
import dev.vigil.ingestion.service.ScreenshotLinkService;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;

/** Entities to API DTOs (VMs, hosts, events, feedback): entities never leave the service. */
@ApplicationScoped
public class VmDtoMapper {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ScreenshotLinkService screenshots;

    VmDtoMapper(ScreenshotLinkService screenshots) {
        this.screenshots = screenshots;
    }

    public VmDto toDto(VmEntity vm) {
        return new VmDto(
                vm.vmUuid,
                vm.name,
                vm.hostId,
                vm.tenant,
                vm.product,
                vm.release,
                vm.state,
                vm.stateReason,
                vm.stateAt,
                vm.running,
                vm.firstSeen,
                vm.lastSeen);
    }

    public ArtifactDto toDto(ArtifactEntity a) {
        return new ArtifactDto(
                a.eventId,
                a.incidentId,
                a.kind,
                a.objectKey,
                a.sha256,
                a.sizeBytes,
                a.format,
                a.status,
                a.statusDetail,
                a.occurredAt);
    }

    public IncidentDto toDto(IncidentEntity i, List<String> waitingFor, List<ArtifactDto> artifacts) {
        return new IncidentDto(
                i.incidentId,
                i.vmUuid,
                i.vmName,
                i.hostId,
                i.product,
                i.release,
                i.trigger,
                i.detectedAt,
                i.openedAt,
                i.deadline,
                i.provisionalAt,
                i.reportedAt,
                i.reportEventId,
                i.complete,
                i.missing == null ? List.of() : List.of(i.missing),
                waitingFor,
                artifacts);
    }

    public HostDto toDto(HostEntity host) {
        return new HostDto(host.hostId, host.tenant, host.agentId, host.agentVersion, host.firstSeen, host.lastSeen);
    }

    /** A user's comment, with a short-lived link to its screenshot. */
    public FeedbackDto toDto(FeedbackEntity feedback) {
        return new FeedbackDto(
                feedback.eventId,
                feedback.text,
                feedback.rating,
                feedback.category,
                feedback.screenshotKey,
                screenshots.link(feedback.screenshotKey),
                feedback.occurredAt);
    }

    public EventDto toDto(AgentEventEntity event) {
        return new EventDto(
                event.eventId,
                event.eventType,
                event.kind,
                event.state,
                event.reason,
                event.hostId,
                event.occurredAt,
                event.receivedAt,
                summary(event.summary));
    }

    /** A recorded summary as JSON; one recorded before summaries were always JSON is {@code {"text": "..."}}. */
    static JsonNode summary(String recorded) {
        try {
            JsonNode node = JSON.readTree(recorded);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (JsonProcessingException e) {
            // Not JSON: kept as text.
        }
        return JSON.createObjectNode().put("text", recorded);
    }
}
