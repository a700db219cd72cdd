package dev.vigil.ingestion.persistence;

import dev.vigil.ingestion.domain.HostSighting;
import io.quarkus.hibernate.orm.panache.PanacheRepositoryBase;
import io.quarkus.panache.common.Page;
import io.quarkus.panache.common.Sort;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;

/** The host inventory. */
@ApplicationScoped
public class HostRepository implements PanacheRepositoryBase<HostEntity, String> {

    /** Notes that a host's agent spoke; the agent identity follows the newest sighting. */
    public void recordSeen(HostSighting sighting) {
        recordSeen(sighting.hostId(), sighting.tenant(), sighting.agentId(), sighting.agentVersion(), sighting.at());
    }

    /** Notes that a host's agent spoke at {@code at}. */
    public void recordSeen(String hostId, String tenant, String agentId, String agentVersion, Instant at) {
        getEntityManager()
                .createNativeQuery("""
                        INSERT INTO host (host_id, tenant, agent_id, agent_version, first_seen, last_seen)
                        VALUES (:host, :tenant, :agent, :version, :at, :at)
                        ON CONFLICT (host_id) DO UPDATE SET
                            agent_id = CASE WHEN EXCLUDED.last_seen >= host.last_seen THEN EXCLUDED.agent_id ELSE host.agent_id END,
                            agent_version = CASE WHEN EXCLUDED.last_seen >= host.last_seen
                                                 THEN EXCLUDED.agent_version ELSE host.agent_version END,
                            first_seen = LEAST(host.first_seen, EXCLUDED.first_seen),
                            last_seen = GREATEST(host.last_seen, EXCLUDED.last_seen)""")
                .setParameter("host", hostId)
                .setParameter("tenant", tenant)
                .setParameter("agent", agentId)
                .setParameter("version", agentVersion)
                .setParameter("at", at)
                .executeUpdate();
    }

    public List<HostEntity> page(int page, int size) {
        return findAll(Sort.by("lastSeen", Sort.Direction.Descending).and("hostId"))
                .page(Page.of(page, size))
                .list();
    }
}
