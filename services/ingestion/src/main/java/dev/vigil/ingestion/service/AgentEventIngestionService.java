package dev.vigil.ingestion.service;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.RecordedEvent;
import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.mapping.AgentEventMapper;
import dev.vigil.ingestion.persistence.AgentEventRepository;
import dev.vigil.ingestion.persistence.HostRepository;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.agent.AgentEvent;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

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
    private final HostRepository hosts;
    private final IngestionMetrics metrics;
    private final FleetBooks books;
    private final IncidentService incidents;
    private final Clock clock = Clock.systemUTC();

    AgentEventIngestionService(
            RecordValidator validator,
            AgentEventMapper mapper,
            AgentEventRepository events,
            HostRepository hosts,
            IngestionMetrics metrics,
            FleetBooks books,
            IncidentService incidents) {
        this.validator = validator;
        this.mapper = mapper;
        this.events = events;
        this.hosts = hosts;
        this.metrics = metrics;
        this.books = books;
        this.incidents = incidents;
    }

    /** One polled record: its value, the seal its headers carry, and where it was read. */
    public record Incoming(byte[] value, RecordSeals.Seal seal, String topic, int partition, long offset) {}

    /**
     * A poll's records, inside the caller's transaction (event rows, inventory and uptime commit together). The
     * event rows go in with one statement; the poll's new events then open or join incidents, move the VM
     * inventory and uptime ledger ({@link FleetBooks}, a few statements per poll), and the hosts heard from are
     * written once, in host order, at the end (so a poll holds each host row's lock only at its very end).
     *
     * @return each record's outcome, in order
     */
    public List<IngestionResult> ingestAll(List<Incoming> batch) {
        List<IngestionResult> results = new ArrayList<>(batch.size());
        List<RecordedEvent> valid = new ArrayList<>(batch.size());
        for (Incoming in : batch) {
            metrics.consumed(in.topic());
            try {
                AgentEvent event = validator.validate(in.value(), in.seal());
                valid.add(mapper.toRecorded(event, in.topic(), in.partition(), in.offset()));
                results.add(null);
            } catch (ValidationException e) {
                metrics.rejected(in.topic(), e.reason());
                LOG.log(
                        System.Logger.Level.INFO,
                        "rejected " + in.topic() + "-" + in.partition() + "@" + in.offset() + " " + e.reason() + ": "
                                + e.getMessage());
                valid.add(null);
                results.add(IngestionResult.rejected(new Rejection(e.reason().name(), e.getMessage())));
            }
        }
        Instant now = clock.instant();
        Set<String> fresh =
                events.insertAllIfAbsent(valid.stream().filter(Objects::nonNull).toList(), now);
        HostSightings sightings = new HostSightings();
        List<RecordedEvent> stored = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            RecordedEvent recorded = valid.get(i);
            if (recorded == null) {
                continue;
            }
            // remove(): a second copy of an event id in the same poll is a duplicate too.
            if (!fresh.remove(recorded.eventId())) {
                metrics.duplicate(recorded.topic());
                results.set(i, IngestionResult.duplicate());
                continue;
            }
            sightings.note(recorded);
            stored.add(recorded);
            if (recorded.vmUuid() != null && recorded.trigger() != null) {
                incidents.triggerArrived(recorded, batch.get(i).value(), now);
            }
            metrics.stored(recorded.topic());
            results.set(i, IngestionResult.stored());
        }
        books.apply(stored);
        sightings.newest().forEach(hosts::recordSeen);
        return results;
    }
}
