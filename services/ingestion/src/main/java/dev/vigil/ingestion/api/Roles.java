package dev.vigil.ingestion.api;

/**
 * The JWT groups ingestion's API knows. Everyone on the vendor's staff with a role reads the fleet; only operators and
 * admins re-drive dead letters. Services that call ingestion (dispatch's host directory, crash triage's uptime ledger)
 * authenticate with a client-credential token whose service account has the analyst role.
 */
final class Roles {

    /** Reads hosts, VMs, incidents, feedback and the fleet's books. */
    static final String ANALYST = "analyst";

    /** Reads as an analyst does, and re-drives dead-lettered records. */
    static final String OPERATOR = "operator";

    /** Everything. */
    static final String ADMIN = "admin";

    private Roles() {}
}
