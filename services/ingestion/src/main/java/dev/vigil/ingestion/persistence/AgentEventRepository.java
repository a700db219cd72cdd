package dev.vigil.ingestion.persistence;

import dev.vigil.ingestion.domain.RecordedEvent;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;

/** The event index. */
@ApplicationScoped
public class AgentEventRepository implements PanacheRepositoryBase<AgentEventEntity, String> {

    /**
     * Records the event unless its id is already there.
     *
     * @return false for a duplicate
     */
    public boolean insertIfAbsent(RecordedEvent event, Instant receivedAt) {
        int inserted = getEntityManager()
                .createNativeQuery("""
                        INSERT INTO agent_event (event_id, event_type, kind, tenant, host_id, vm_uuid, state, reason,
                            occurred_at, received_at, summary, kafka_topic, kafka_partition, kafka_offset)
                        VALUES (:id, :type, :kind, :tenant, :host, :vm, :state, :reason,
                            :occurred, :received, :summary, :topic, :partition, :offset)
                        ON CONFLICT (event_id) DO NOTHING""")
                .setParameter("id", event.eventId())
                .setParameter("type", event.eventType())
                .setParameter("kind", event.kind())
                .setParameter("tenant", event.tenant())
                .setParameter("host", event.hostId())
                .setParameter("vm", event.vmUuid())
                .setParameter("state", event.state())
                .setParameter("reason", event.reason())
                .setParameter("occurred", event.occurredAt())
                .setParameter("received", receivedAt)
                .setParameter("summary", event.summary())
                .setParameter("topic", event.topic())
                .setParameter("partition", event.partition())
                .setParameter("offset", event.offset())
                .executeUpdate();
        return inserted == 1;
    }

    /** A VM's events in the order they occurred. */
    public List<AgentEventEntity> pageForVm(String vmUuid, int page, int size) {
        return find("vmUuid", Sort.by("occurredAt").and("kafkaOffset"), vmUuid)
                .page(Page.of(page, size))
                .list();
    }

    public long countForVm(String vmUuid) {
        return count("vmUuid", vmUuid);
    }
}
