package dev.vigil.dispatch.persistence;

import java.sql.SQLException;

/** The database failed a unit of work; nothing of it was kept. */
public final class PersistenceException extends RuntimeException {

    PersistenceException(SQLException cause) {
        super("database: " + cause.getMessage(), cause);
    }
}
