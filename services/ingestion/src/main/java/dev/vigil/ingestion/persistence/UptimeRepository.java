package dev.vigil.ingestion.persistence;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import java.time.LocalDate;
import java.util.List;

/** The uptime ledger: VM-seconds per UTC day, tenant, product and release. */
@ApplicationScoped
public class UptimeRepository {

    /** Stands for a product or release the VM's image does not declare. */
    public static final String UNDECLARED = "";

    private final EntityManager entityManager;

    UptimeRepository(EntityManager entityManager) {
        this.entityManager = entityManager;
    }

    public void credit(LocalDate day, String tenant, String product, String release, double seconds) {
        entityManager
                .createNativeQuery("""
                        INSERT INTO uptime_ledger (day, tenant, product, release, vm_seconds)
                        VALUES (:day, :tenant, :product, :release, :seconds)
                        ON CONFLICT (day, tenant, product, release)
                        DO UPDATE SET vm_seconds = uptime_ledger.vm_seconds + EXCLUDED.vm_seconds""")
                .setParameter("day", day)
                .setParameter("tenant", tenant)
                .setParameter("product", product == null ? UNDECLARED : product)
                .setParameter("release", release == null ? UNDECLARED : release)
                .setParameter("seconds", seconds)
                .executeUpdate();
    }

    /** One ledger row. */
    public record Row(LocalDate day, String tenant, String product, String release, double vmSeconds) {}

    /** The ledger between two days (inclusive), optionally for one product and release, by day. */
    @SuppressWarnings("unchecked")
    public List<Row> between(LocalDate from, LocalDate to, String product, String release) {
        List<Object[]> rows = entityManager
                .createNativeQuery("""
                        SELECT day, tenant, product, release, vm_seconds FROM uptime_ledger
                        WHERE day BETWEEN :from AND :to
                          AND (CAST(:product AS text) IS NULL OR product = :product)
                          AND (CAST(:release AS text) IS NULL OR release = :release)
                        ORDER BY day, tenant, product, release""")
                .setParameter("from", from)
                .setParameter("to", to)
                .setParameter("product", product)
                .setParameter("release", release)
                .getResultList();
        return rows.stream()
                .map(r -> new Row(
                        (LocalDate) r[0], (String) r[1], (String) r[2], (String) r[3], ((Number) r[4]).doubleValue()))
                .toList();
    }
}
