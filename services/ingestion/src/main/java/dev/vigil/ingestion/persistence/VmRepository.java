package dev.vigil.ingestion.persistence;

import dev.vigil.ingestion.domain.RecordedEvent;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
import java.time.Instant;
import java.util.List;

/** The VM inventory. */
@ApplicationScoped
public class VmRepository implements PanacheRepositoryBase<VmEntity, String> {

    /**
     * Notes that a VM was seen; a lifecycle event moves its state only if it is not older than the state it has
     * (events may arrive out of order across agent restarts).
     */
    public void recordSeen(RecordedEvent event) {
        getEntityManager()
                .createNativeQuery("""
                        INSERT INTO vm (vm_uuid, name, host_id, tenant, product, release, state, state_reason, state_at,
                            first_seen, last_seen)
                        VALUES (:vm, :name, :host, :tenant, :product, :release, :state, :reason, :stateAt, :at, :at)
                        ON CONFLICT (vm_uuid) DO UPDATE SET
                            name = EXCLUDED.name,
                            host_id = EXCLUDED.host_id,
                            product = CASE WHEN EXCLUDED.last_seen >= vm.last_seen AND EXCLUDED.product IS NOT NULL
                                           THEN EXCLUDED.product ELSE vm.product END,
                            release = CASE WHEN EXCLUDED.last_seen >= vm.last_seen AND EXCLUDED.release IS NOT NULL
                                           THEN EXCLUDED.release ELSE vm.release END,
                            first_seen = LEAST(vm.first_seen, EXCLUDED.first_seen),
                            last_seen = GREATEST(vm.last_seen, EXCLUDED.last_seen),
                            state = CASE WHEN EXCLUDED.state IS NOT NULL
                                          AND (vm.state_at IS NULL OR EXCLUDED.state_at >= vm.state_at)
                                         THEN EXCLUDED.state ELSE vm.state END,
                            state_reason = CASE WHEN EXCLUDED.state IS NOT NULL
                                          AND (vm.state_at IS NULL OR EXCLUDED.state_at >= vm.state_at)
                                         THEN EXCLUDED.state_reason ELSE vm.state_reason END,
                            state_at = CASE WHEN EXCLUDED.state IS NOT NULL
                                          AND (vm.state_at IS NULL OR EXCLUDED.state_at >= vm.state_at)
                                         THEN EXCLUDED.state_at ELSE vm.state_at END""")
                .setParameter("vm", event.vmUuid())
                .setParameter("name", event.vmName())
                .setParameter("host", event.hostId())
                .setParameter("tenant", event.tenant())
                .setParameter("product", event.product())
                .setParameter("release", event.release())
                .setParameter("state", event.state())
                .setParameter("reason", event.reason())
                .setParameter("stateAt", event.state() == null ? null : event.occurredAt())
                .setParameter("at", event.occurredAt())
                .executeUpdate();
    }

    /** The VM's row, locked until the transaction ends (its uptime is being counted). */
    public VmEntity lock(String vmUuid) {
        VmEntity vm = findById(vmUuid);
        if (vm != null) {
            // Reloaded: an upsert earlier in this transaction may have moved its state.
            getEntityManager().refresh(vm, LockModeType.PESSIMISTIC_WRITE);
        }
        return vm;
    }

    /** How far a running VM's time had been counted before {@link #advanceRunningOn} moved it. */
    public record Counted(String tenant, String product, String release, Instant from) {}

    /**
     * Moves every running VM of a host that is counted to before {@code at} up to {@code at}, in one statement,
     * and returns where each was counted to before.
     */
    @SuppressWarnings("unchecked")
    public List<Counted> advanceRunningOn(String hostId, Instant at) {
        List<Object[]> rows = getEntityManager()
                .createNativeQuery("""
                        WITH prev AS (
                            SELECT vm_uuid, counted_until, tenant, product, release FROM vm
                            WHERE host_id = :host AND running AND counted_until < :at
                            ORDER BY vm_uuid FOR UPDATE)
                        UPDATE vm SET counted_until = :at FROM prev WHERE vm.vm_uuid = prev.vm_uuid
                        RETURNING prev.tenant, prev.product, prev.release, prev.counted_until""")
                .setParameter("host", hostId)
                .setParameter("at", at)
                .getResultList();
        return rows.stream()
                .map(r -> new Counted((String) r[0], (String) r[1], (String) r[2], instant(r[3])))
                .toList();
    }

    private static Instant instant(Object value) {
        if (value instanceof Instant i) {
            return i;
        }
        if (value instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        return ((java.sql.Timestamp) value).toInstant();
    }

    public List<VmEntity> page(int page, int size) {
        return findAll(Sort.by("lastSeen", Sort.Direction.Descending).and("vmUuid"))
                .page(Page.of(page, size))
                .list();
    }
}
