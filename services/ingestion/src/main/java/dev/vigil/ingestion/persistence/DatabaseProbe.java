package dev.vigil.ingestion.persistence;

import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;

/** Whether PostgreSQL answers at all: tells a record that fails from a database that is down. */
@ApplicationScoped
public class DatabaseProbe {

    private final EntityManager entityManager;

    DatabaseProbe(EntityManager entityManager) {
        this.entityManager = entityManager;
    }

    /** Whether a trivial query commits in a transaction of its own. */
    public boolean answers() {
        try {
            return QuarkusTransaction.requiringNew()
                    .call(() -> entityManager.createNativeQuery("SELECT 1").getSingleResult() != null);
        } catch (RuntimeException e) {
            return false;
        }
    }
}
