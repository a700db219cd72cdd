package dev.vigil.triage.bucket;

import io.agroal.api.AgroalDataSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** Whether PostgreSQL answers at all: tells a report that fails from a database that is down. */
@ApplicationScoped
public class DatabaseRepository {

    private static final int TIMEOUT_SECONDS = 5;

    private final AgroalDataSource db;

    DatabaseRepository(AgroalDataSource db) {
        this.db = db;
    }

    /** Whether a trivial query answers within a few seconds. */
    public boolean answers() {
        try (Connection c = db.getConnection();
                Statement s = c.createStatement()) {
            s.setQueryTimeout(TIMEOUT_SECONDS);
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }
}
