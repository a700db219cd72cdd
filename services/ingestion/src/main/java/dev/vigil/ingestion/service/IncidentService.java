package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.domain.IncidentEvidence;
import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.ingestion.persistence.IncidentRepository;
import dev.vigil.ingestion.persistence.IncidentRepository.Trigger;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.common.ArtifactKind;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Opens incidents from trigger events and ties artifacts to them, whichever arrives first. A trigger of the same
 * kind on the same VM within {@code vigil.ingestion.incident-coalesce-window} of an open incident joins it (a guest
 * panic and libvirt's crash a moment later are one failure). Runs inside the consumer's transaction.
 */
@ApplicationScoped
public class IncidentService {

    private final IncidentRepository incidents;
    private final IngestionConfig config;
    private final IngestionMetrics metrics;
    private final Event<IncidentEvidence> recorded;

    IncidentService(
            IncidentRepository incidents,
            IngestionConfig config,
            IngestionMetrics metrics,
            Event<IncidentEvidence> recorded) {
        this.incidents = incidents;
        this.config = config;
        this.metrics = metrics;
        this.recorded = recorded;
    }

    void triggerArrived(RecordedEvent event, byte[] record, Instant now) {
        incidents.lockIncidents();
        // Heard once this transaction commits: the incident's (provisional) report need not wait for the scheduler.
        recorded.fire(IncidentEvidence.TRIGGER);
        Trigger trigger = new Trigger(
                event.eventId(),
                event.tenant(),
                event.hostId(),
                event.vmUuid(),
                event.vmName(),
                event.product(),
                event.release(),
                event.trigger(),
                record,
                event.hasPanic(),
                event.occurredAt());
        Instant deadline = now.plus(config.incidentDeadline());
        Optional<String> opened = incidents.incidentOf(event.eventId());
        if (opened.isPresent()) {
            // Its artifacts came first.
            incidents.openOrFill(opened.get(), trigger, now, deadline);
            return;
        }
        Optional<String> near = incidents.openNear(
                event.vmUuid(), event.trigger(), event.occurredAt(), config.incidentCoalesceWindow());
        if (near.isPresent()) {
            String owner = incidents.link(event.eventId(), near.get());
            if (owner.equals(near.get())) {
                if (event.hasPanic()) {
                    incidents.addPanic(owner, record);
                }
                metrics.incidentCoalesced();
            } else {
                // An artifact naming this event opened its own incident at the same moment: fill that one.
                incidents.openOrFill(owner, trigger, now, deadline);
            }
            return;
        }
        incidents.openOrFill(event.eventId(), trigger, now, deadline);
        incidents.link(event.eventId(), event.eventId());
        metrics.incidentOpened(event.trigger());
    }

    void artifactArrived(ArtifactManifest manifest, Instant now) {
        String named = manifest.getIncidentId();
        if (named == null) {
            return;
        }
        incidents.lockIncidents();
        String owner = incidents.incidentOf(named).orElse(null);
        if (owner == null) {
            incidents.openPlaceholder(
                    named,
                    manifest.getEnvelope().getTenant(),
                    manifest.getEnvelope().getSource().getHostId(),
                    manifest.getVm().getUuid(),
                    now,
                    now.plus(config.incidentDeadline()));
            owner = incidents.link(named, named);
            if (!owner.equals(named)) {
                incidents.dropIfOrphan(named);
            }
        }
        List<ArtifactKind> plan = manifest.getCapturePlan();
        if (plan != null && !plan.isEmpty()) {
            incidents.plan(owner, plan.stream().map(Enum::name).distinct().toList());
        }
        if (incidents.reported(owner)) {
            metrics.lateArtifact();
        }
    }
}
