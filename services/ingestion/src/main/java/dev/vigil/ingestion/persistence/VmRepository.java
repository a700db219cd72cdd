package dev.vigil.ingestion.persistence;

import dev.vigil.ingestion.domain.RecordedEvent;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.LockModeType;
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

    /** A host's running VMs, locked until the transaction ends. */
    public List<VmEntity> lockRunningOn(String hostId) {
        return find("hostId = ?1 and running = true", Sort.by("vmUuid"), hostId)
                .withLock(LockModeType.PESSIMISTIC_WRITE)
                .list();
    }

    public List<VmEntity> page(int page, int size) {
        return findAll(Sort.by("lastSeen", Sort.Direction.Descending).and("vmUuid"))
                .page(Page.of(page, size))
                .list();
    }
}
