package dev.vigil.ingestion.service;

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

    private final AgentEventValidator validator;
    private final AgentEventMapper mapper;
    private final AgentEventRepository events;
    private final VmRepository vms;
    private final HostRepository hosts;
    private final IngestionMetrics metrics;
    private final Clock clock = Clock.systemUTC();

    AgentEventIngestionService(
            AgentEventValidator validator,
            AgentEventMapper mapper,
            AgentEventRepository events,
            VmRepository vms,
            HostRepository hosts,
            IngestionMetrics metrics) {
        this.validator = validator;
        this.mapper = mapper;
        this.events = events;
        this.vms = vms;
        this.hosts = hosts;
        this.metrics = metrics;
    }

    /** What became of a record. */
    public enum Outcome {
        STORED,
        DUPLICATE,
        REJECTED
    }

    /** The outcome, and for a rejection its reason. */
    public record Result(Outcome outcome, Rejection rejection) {}

    /** Must run inside the caller's transaction: the event row and the inventory change commit together. */
    public Result ingest(byte[] value, String topic, int partition, long offset) {
        metrics.consumed();
        AgentEvent event;
        try {
            event = validator.validate(value);
        } catch (ValidationException e) {
            metrics.rejected(e.reason());
            LOG.log(
                    System.Logger.Level.INFO,
                    "rejected " + topic + "-" + partition + "@" + offset + " " + e.reason() + ": " + e.getMessage());
            return new Result(Outcome.REJECTED, new Rejection(e.reason().name(), e.getMessage()));
        }
        RecordedEvent recorded = mapper.toRecorded(event, topic, partition, offset);
        if (!events.insertIfAbsent(recorded, clock.instant())) {
            metrics.duplicate();
            return new Result(Outcome.DUPLICATE, null);
        }
        hosts.recordSeen(recorded);
        if (recorded.vmUuid() != null) {
            vms.recordSeen(recorded);
        }
        metrics.stored();
        return new Result(Outcome.STORED, null);
    }
}
