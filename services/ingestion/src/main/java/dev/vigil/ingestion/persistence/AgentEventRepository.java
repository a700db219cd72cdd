package dev.vigil.ingestion.persistence;

import dev.vigil.ingestion.domain.RecordedEvent;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hibernate.Session;

/** The event index. */
@ApplicationScoped
public class AgentEventRepository implements PanacheRepositoryBase<AgentEventEntity, String> {

    /**
     * Records every event whose id is not there yet, with one statement.
     *
     * @return the ids that were new
     */
    public Set<String> insertAllIfAbsent(List<RecordedEvent> batch, Instant receivedAt) {
        if (batch.isEmpty()) {
            return new HashSet<>();
        }
        int n = batch.size();
        String[][] text = new String[10][n];
        Timestamp[] occurred = new Timestamp[n];
        Integer[] partitions = new Integer[n];
        Long[] offsets = new Long[n];
        for (int i = 0; i < n; i++) {
            RecordedEvent e = batch.get(i);
            text[0][i] = e.eventId();
            text[1][i] = e.eventType();
            text[2][i] = e.kind();
            text[3][i] = e.tenant();
            text[4][i] = e.hostId();
            text[5][i] = e.vmUuid();
            text[6][i] = e.state();
            text[7][i] = e.reason();
            text[8][i] = e.summary();
            text[9][i] = e.topic();
            occurred[i] = Timestamp.from(e.occurredAt());
            partitions[i] = e.partition();
            offsets[i] = e.offset();
        }
        return getEntityManager().unwrap(Session.class).doReturningWork(connection -> {
            Set<String> fresh = new HashSet<>();
            try (PreparedStatement insert = connection.prepareStatement("""
                    INSERT INTO agent_event (event_id, event_type, kind, tenant, host_id, vm_uuid, state, reason,
                        summary, kafka_topic, occurred_at, kafka_partition, kafka_offset, received_at)
                    SELECT u.*, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                        ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::int4[], ?::int8[]) AS u
                    ON CONFLICT (event_id) DO NOTHING
                    RETURNING event_id""")) {
                insert.setTimestamp(1, Timestamp.from(receivedAt));
                for (int c = 0; c < text.length; c++) {
                    insert.setArray(2 + c, connection.createArrayOf("text", text[c]));
                }
                insert.setArray(12, connection.createArrayOf("timestamptz", occurred));
                insert.setArray(13, connection.createArrayOf("int4", partitions));
                insert.setArray(14, connection.createArrayOf("int8", offsets));
                try (ResultSet rs = insert.executeQuery()) {
                    while (rs.next()) {
                        fresh.add(rs.getString(1));
                    }
                }
            }
            return fresh;
        });
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

    /** A page of a VM's events of one kind (the payload's name, e.g. Conformity), in the order they occurred. */
    public List<AgentEventEntity> pageForVm(String vmUuid, String kind, int page, int size) {
        return find("vmUuid = ?1 and kind = ?2", Sort.by("occurredAt").and("kafkaOffset"), vmUuid, kind)
                .page(Page.of(page, size))
                .list();
    }

    public long countForVm(String vmUuid, String kind) {
        return count("vmUuid = ?1 and kind = ?2", vmUuid, kind);
    }
}
