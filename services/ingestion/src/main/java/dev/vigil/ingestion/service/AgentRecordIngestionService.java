package dev.vigil.ingestion.service;

import dev.vigil.ingestion.domain.IngestionResult;
import dev.vigil.ingestion.domain.Rejection;
import dev.vigil.ingestion.persistence.AgentRecordRepository;
import dev.vigil.ingestion.persistence.HostRepository;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.UserFeedback;
import dev.vigil.schemas.common.Envelope;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;

/**
 * Takes artifact manifests, user feedback and command results to their end: validated for their kind, recorded
 * once by event id (and the sending host's last-seen moved), or refused with a typed reason.
 */
@ApplicationScoped
public class AgentRecordIngestionService {

    private static final System.Logger LOG = System.getLogger(AgentRecordIngestionService.class.getName());

    private final RecordValidator validator;
    private final AgentRecordRepository records;
    private final HostRepository hosts;
    private final IngestionMetrics metrics;
    private final IncidentService incidents;
    private final Clock clock = Clock.systemUTC();

    AgentRecordIngestionService(
            RecordValidator validator,
            AgentRecordRepository records,
            HostRepository hosts,
            IngestionMetrics metrics,
            IncidentService incidents) {
        this.validator = validator;
        this.records = records;
        this.hosts = hosts;
        this.metrics = metrics;
        this.incidents = incidents;
    }

    public IngestionResult artifact(byte[] value, String topic) {
        return ingest(
                value,
                topic,
                ArtifactManifest.class,
                m -> Map.of(
                        "vm.uuid", m.getVm().getUuid(),
                        "bucket", m.getBucket(),
                        "objectKey", m.getObjectKey(),
                        "sha256", m.getSha256(),
                        "format", m.getFormat()),
                (m, at) -> {
                    if (!records.insertIfAbsent(m, at)) {
                        return false;
                    }
                    incidents.artifactArrived(m, at);
                    return true;
                });
    }

    public IngestionResult feedback(byte[] value, String topic) {
        return ingest(
                value,
                topic,
                UserFeedback.class,
                f -> Map.of("vm.uuid", f.getVm().getUuid(), "text", f.getText()),
                records::insertIfAbsent);
    }

    public IngestionResult commandResult(byte[] value, String topic) {
        return ingest(
                value,
                topic,
                CommandResult.class,
                r -> Map.of("commandId", r.getCommandId(), "message", r.getMessage()),
                records::insertIfAbsent);
    }

    /** Must run inside the caller's transaction. */
    private <T extends SpecificRecord> IngestionResult ingest(
            byte[] value,
            String topic,
            Class<T> type,
            Function<T, Map<String, String>> required,
            BiPredicate<T, Instant> insert) {
        metrics.consumed(topic);
        T record;
        try {
            record = validator.validate(value, type, required);
        } catch (ValidationException e) {
            metrics.rejected(topic, e.reason());
            LOG.log(
                    System.Logger.Level.INFO,
                    "rejected a " + type.getSimpleName() + " from " + topic + ": " + e.reason() + ": "
                            + e.getMessage());
            return IngestionResult.rejected(new Rejection(e.reason().name(), e.getMessage()));
        }
        if (!insert.test(record, clock.instant())) {
            metrics.duplicate(topic);
            return IngestionResult.duplicate();
        }
        Envelope envelope =
                (Envelope) record.get(record.getSchema().getField("envelope").pos());
        hosts.recordSeen(
                envelope.getSource().getHostId(),
                envelope.getTenant(),
                envelope.getSource().getAgentId(),
                envelope.getSource().getAgentVersion(),
                envelope.getOccurredAt());
        metrics.stored(topic);
        return IngestionResult.stored();
    }
}
