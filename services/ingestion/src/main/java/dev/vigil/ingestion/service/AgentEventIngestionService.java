package dev.vigil.ingestion.service;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.mapping.AgentEventMapper;
import dev.vigil.ingestion.persistence.AgentEventRepository;
import dev.vigil.ingestion.persistence.HostRepository;
import dev.vigil.ingestion.persistence.VmRepository;
import dev.vigil.schemas.agent.AgentEvent;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;

/**
 * Takes one raw agent-event record to its end: recorded once (event index and inventory), dropped as a duplicate,
 * or refused with a typed reason for the dead-letter topic.
 */
@ApplicationScoped
public class AgentEventIngestionService {

    private static final System.Logger LOG = System.getLogger(AgentEventIngestionService.class.getName());

    private final RecordValidator validator;
    private final AgentEventMapper mapper;
    private final AgentEventRepository events;
    private final VmRepository vms;
    private final HostRepository hosts;
    private final IngestionMetrics metrics;
    private final UptimeLedger uptime;
    private final IncidentService incidents;
    private final Clock clock = Clock.systemUTC();

    AgentEventIngestionService(
            RecordValidator validator,
            AgentEventMapper mapper,
            AgentEventRepository events,
            VmRepository vms,
            HostRepository hosts,
            IngestionMetrics metrics,
            UptimeLedger uptime,
            IncidentService incidents) {
        this.validator = validator;
        this.mapper = mapper;
        this.events = events;
        this.vms = vms;
        this.hosts = hosts;
        this.metrics = metrics;
        this.uptime = uptime;
        this.incidents = incidents;
    }

    /**
     * One record of a batch, inside the caller's transaction (the event row and the inventory change commit
     * together); the hosts it names are noted in {@code sightings} and written once for the whole
     * batch by {@link #recordHosts}, so a batch holds each host row's lock only at its very end.
     */
    public IngestionResult ingest(byte[] value, String topic, int partition, long offset, HostSightings sightings) {
        metrics.consumed(topic);
        AgentEvent event;
        try {
            event = validator.validate(value);
        } catch (ValidationException e) {
            metrics.rejected(topic, e.reason());
            LOG.log(
                    System.Logger.Level.INFO,
                    "rejected " + topic + "-" + partition + "@" + offset + " " + e.reason() + ": " + e.getMessage());
            return IngestionResult.rejected(new Rejection(e.reason().name(), e.getMessage()));
        }
        RecordedEvent recorded = mapper.toRecorded(event, topic, partition, offset);
        if (!events.insertIfAbsent(recorded, clock.instant())) {
            metrics.duplicate(topic);
            return IngestionResult.duplicate();
        }
        sightings.note(recorded);
        if (recorded.vmUuid() != null) {
            vms.recordSeen(recorded);
            uptime.vmEvent(recorded);
            if (recorded.trigger() != null) {
                incidents.triggerArrived(recorded, value, clock.instant());
            }
        } else if ("AgentStatus".equals(recorded.kind())) {
            uptime.hostAlive(recorded.hostId(), recorded.occurredAt());
        }
        metrics.stored(topic);
        return IngestionResult.stored();
    }

    /** Writes the batch's host sightings, in host order (concurrent batches lock host rows in the same order). */
    public void recordHosts(HostSightings sightings) {
        sightings.newest().forEach(hosts::recordSeen);
    }
}
