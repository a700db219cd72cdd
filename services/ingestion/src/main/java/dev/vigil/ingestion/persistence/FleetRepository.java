package dev.vigil.ingestion.persistence;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.util.List;

/** Fleet-wide counts over the inventory: VMs per product and release, hosts per agent version. */
@ApplicationScoped
public class FleetRepository {

    private final EntityManager entityManager;

    FleetRepository(EntityManager entityManager) {
        this.entityManager = entityManager;
    }

    /** VMs known and running per tenant, product and release ({@code ""} where the image does not say). */
    public record ReleaseCount(String tenant, String product, String release, long vms, long running) {}

    /** Hosts per tenant and agent version, with the last time one of them was heard from. */
    public record AgentVersionCount(String tenant, String agentVersion, long hosts, java.time.Instant lastSeen) {}

    @SuppressWarnings("unchecked")
    public List<ReleaseCount> releases() {
        List<Object[]> rows = entityManager.createNativeQuery("""
                        SELECT tenant, COALESCE(product, ''), COALESCE(release, ''), count(*),
                               count(*) FILTER (WHERE running)
                        FROM vm GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""").getResultList();
        return rows.stream()
                .map(r -> new ReleaseCount(
                        (String) r[0],
                        (String) r[1],
                        (String) r[2],
                        ((Number) r[3]).longValue(),
                        ((Number) r[4]).longValue()))
                .toList();
    }

    @SuppressWarnings("unchecked")
    public List<AgentVersionCount> agentVersions() {
        List<Object[]> rows = entityManager.createNativeQuery("""
                        SELECT tenant, agent_version, count(*), max(last_seen)
                        FROM host GROUP BY 1, 2 ORDER BY 1, 2""").getResultList();
        return rows.stream()
                .map(r ->
                        new AgentVersionCount((String) r[0], (String) r[1], ((Number) r[2]).longValue(), instant(r[3])))
                .toList();
    }

    private static java.time.Instant instant(Object value) {
        if (value instanceof java.time.Instant i) {
            return i;
        }
        if (value instanceof java.time.OffsetDateTime o) {
            return o.toInstant();
        }
        return ((java.sql.Timestamp) value).toInstant();
    }
}
