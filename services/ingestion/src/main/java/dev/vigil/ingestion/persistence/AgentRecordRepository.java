package dev.vigil.ingestion.persistence;

import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.CommandResult;
import dev.vigil.schemas.agent.UserFeedback;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.Instant;

/**
 * Idempotent writes of the agent records besides events: artifact manifests, feedback and command results. Each
 * insert is keyed by the record's event id and returns false for a duplicate.
 */
@ApplicationScoped
public class AgentRecordRepository {

    /** Artifacts wait here until ingestion has checked the object's size and hash. */
    public static final String UNVERIFIED = "UNVERIFIED";

    private final EntityManager entityManager;

    AgentRecordRepository(EntityManager entityManager) {
        this.entityManager = entityManager;
    }

    public boolean insertIfAbsent(ArtifactManifest manifest, Instant receivedAt) {
        var envelope = manifest.getEnvelope();
        return entityManager
                        .createNativeQuery("""
                                INSERT INTO artifact (event_id, tenant, host_id, vm_uuid, incident_id, kind, bucket,
                                    object_key, sha256, size_bytes, format, encryption, partial, status, occurred_at,
                                    received_at)
                                VALUES (:id, :tenant, :host, :vm, :incident, :kind, :bucket, :key, :sha, :size,
                                    :format, :encryption, :partial, :status, :occurred, :received)
                                ON CONFLICT (event_id) DO NOTHING""")
                        .setParameter("id", envelope.getEventId())
                        .setParameter("tenant", envelope.getTenant())
                        .setParameter("host", envelope.getSource().getHostId())
                        .setParameter("vm", manifest.getVm().getUuid())
                        .setParameter("incident", manifest.getIncidentId())
                        .setParameter("kind", manifest.getKind().name())
                        .setParameter("bucket", manifest.getBucket())
                        .setParameter("key", manifest.getObjectKey())
                        .setParameter("sha", manifest.getSha256())
                        .setParameter("size", manifest.getSizeBytes())
                        .setParameter("format", manifest.getFormat())
                        .setParameter("encryption", manifest.getEncryption())
                        .setParameter("partial", manifest.getPartial())
                        .setParameter("status", UNVERIFIED)
                        .setParameter("occurred", envelope.getOccurredAt())
                        .setParameter("received", receivedAt)
                        .executeUpdate()
                == 1;
    }

    public boolean insertIfAbsent(UserFeedback feedback, Instant receivedAt) {
        var envelope = feedback.getEnvelope();
        return entityManager
                        .createNativeQuery("""
                                INSERT INTO feedback (event_id, tenant, host_id, vm_uuid, text, rating, category,
                                    screenshot_key, occurred_at, received_at)
                                VALUES (:id, :tenant, :host, :vm, :text, :rating, :category, :screenshot, :occurred,
                                    :received)
                                ON CONFLICT (event_id) DO NOTHING""")
                        .setParameter("id", envelope.getEventId())
                        .setParameter("tenant", envelope.getTenant())
                        .setParameter("host", envelope.getSource().getHostId())
                        .setParameter("vm", feedback.getVm().getUuid())
                        .setParameter("text", feedback.getText())
                        .setParameter("rating", feedback.getRating())
                        .setParameter("category", feedback.getCategory().name())
                        .setParameter("screenshot", feedback.getScreenshotKey())
                        .setParameter("occurred", envelope.getOccurredAt())
                        .setParameter("received", receivedAt)
                        .executeUpdate()
                == 1;
    }

    public boolean insertIfAbsent(CommandResult result, Instant receivedAt) {
        var envelope = result.getEnvelope();
        return entityManager
                        .createNativeQuery("""
                                INSERT INTO command_result (event_id, tenant, host_id, command_id, status, refusal,
                                    message, completed_at, received_at)
                                VALUES (:id, :tenant, :host, :command, :status, :refusal, :message, :completed,
                                    :received)
                                ON CONFLICT (event_id) DO NOTHING""")
                        .setParameter("id", envelope.getEventId())
                        .setParameter("tenant", envelope.getTenant())
                        .setParameter("host", envelope.getSource().getHostId())
                        .setParameter("command", result.getCommandId())
                        .setParameter("status", result.getStatus().name())
                        .setParameter(
                                "refusal",
                                result.getRefusal() == null
                                        ? null
                                        : result.getRefusal().name())
                        .setParameter("message", result.getMessage())
                        .setParameter("completed", result.getCompletedAt())
                        .setParameter("received", receivedAt)
                        .executeUpdate()
                == 1;
    }
}
