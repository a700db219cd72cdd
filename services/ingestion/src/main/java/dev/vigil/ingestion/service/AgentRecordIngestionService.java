package dev.vigil.ingestion.service;

import dev.vigil.ingestion.domain.AgentRecord;
import dev.vigil.ingestion.domain.IncidentEvidence;
import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.persistence.AgentRecordRepository;
import dev.vigil.ingestion.persistence.HostRepository;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.UserFeedback;
import dev.vigil.schemas.common.Envelope;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;

/**
 * Takes artifact manifests, user feedback and command results to their end, a polled batch at a time: validated for
 * their kind, recorded once by event id (and the sending hosts' last-seen moved), or refused with a typed reason.
 */
@ApplicationScoped
public class AgentRecordIngestionService {

    private static final System.Logger LOG = System.getLogger(AgentRecordIngestionService.class.getName());

    private final RecordValidator validator;
    private final AgentRecordRepository records;
    private final HostRepository hosts;
    private final IngestionMetrics metrics;
    private final IncidentService incidents;
    private final Event<IncidentEvidence> recorded;
    private final Clock clock = Clock.systemUTC();

    AgentRecordIngestionService(
            RecordValidator validator,
            AgentRecordRepository records,
            HostRepository hosts,
            IngestionMetrics metrics,
            IncidentService incidents,
            Event<IncidentEvidence> recorded) {
        this.recorded = recorded;
        this.validator = validator;
        this.records = records;
        this.hosts = hosts;
        this.metrics = metrics;
        this.incidents = incidents;
    }

    /** The object a record names, which must be its own host's. */
    private record OwnObject(Envelope envelope, String key) {}

    /** Artifact manifests, in order; must run inside the caller's transaction. */
    public List<IngestionResult> artifacts(List<AgentRecord> incoming, String topic) {
        return ingestAll(
                incoming,
                topic,
                ArtifactManifest.class,
                m -> Map.of(
                        "vm.uuid", m.getVm().getUuid(),
                        "bucket", m.getBucket(),
                        "objectKey", m.getObjectKey(),
                        "sha256", m.getSha256(),
                        "format", m.getFormat()),
                m -> new OwnObject(m.getEnvelope(), m.getObjectKey()),
                (m, at) -> {
                    if (!records.insertIfAbsent(m, at)) {
                        return false;
                    }
                    incidents.artifactArrived(m, at);
                    // Heard once this transaction commits: the object is checked at once, not at the next tick.
                    recorded.fire(IncidentEvidence.MANIFEST);
                    return true;
                });
    }

    /** User feedback, in order; must run inside the caller's transaction. */
    public List<IngestionResult> feedback(List<AgentRecord> incoming, String topic) {
        return ingestAll(
                incoming,
                topic,
                UserFeedback.class,
                f -> Map.of("vm.uuid", f.getVm().getUuid(), "text", f.getText()),
                f -> new OwnObject(f.getEnvelope(), f.getScreenshotKey()),
                records::insertIfAbsent);
    }

    /** Command results, in order; must run inside the caller's transaction. */
    public List<IngestionResult> commandResults(List<AgentRecord> incoming, String topic) {
        return ingestAll(
                incoming,
                topic,
                CommandResult.class,
                r -> Map.of("commandId", r.getCommandId(), "message", r.getMessage()),
                r -> null,
                records::insertIfAbsent);
    }

    /**
     * Takes a polled batch in record order: each record is validated and inserted once by event id (a second copy
     * in the same batch is a duplicate too), and the hosts heard from are updated once each at the end.
     *
     * @return one result per record, in order
     */
    private <T extends SpecificRecord> List<IngestionResult> ingestAll(
            List<AgentRecord> incoming,
            String topic,
            Class<T> type,
            Function<T, Map<String, String>> required,
            Function<T, OwnObject> object,
            BiPredicate<T, Instant> insert) {
        List<IngestionResult> results = new ArrayList<>(incoming.size());
        HostSightings sightings = new HostSightings();
        Instant now = clock.instant();
        for (AgentRecord in : incoming) {
            metrics.consumed(topic);
            T record;
            try {
                record = validator.validate(in.value(), in.seal(), type, required);
                OwnObject named = object.apply(record);
                if (named != null) {
                    validator.requireOwnObject(named.envelope(), named.key());
                }
            } catch (ValidationException e) {
                metrics.rejected(topic, e.reason());
                LOG.log(
                        System.Logger.Level.INFO,
                        "rejected a " + type.getSimpleName() + " from " + topic + ": " + e.reason() + ": "
                                + e.getMessage());
                results.add(IngestionResult.rejected(new Rejection(e.reason().name(), e.getMessage())));
                continue;
            }
            if (!insert.test(record, now)) {
                metrics.duplicate(topic);
                results.add(IngestionResult.duplicate());
                continue;
            }
            sightings.note((Envelope)
                    record.get(record.getSchema().getField("envelope").pos()));
            metrics.stored(topic);
            results.add(IngestionResult.stored());
        }
        sightings.newest().forEach(hosts::recordSeen);
        return results;
    }
}
