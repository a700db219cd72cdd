package dev.vigil.schemas.delivery;

import java.time.Instant;

/** What a license allows at a moment, the same rule for the agent that enforces it and dispatch that shows it. */
public final class LicenseTerms {

    /** A license's standing at a moment. */
    public enum Standing {
        /** Before its term starts. */
        NOT_YET_VALID,
        /** Within its term and lease. */
        ACTIVE,
        /** The lease ran out and the vendor could not renew it: the product runs until the grace period ends. */
        GRACE,
        /** Past the term, or the lease and its grace: the product stops. */
        EXPIRED,
        /** The vendor revoked it: the product stops. */
        REVOKED;

        /** Whether the licensed product may run. */
        public boolean allowsRunning() {
            return this == ACTIVE || this == GRACE;
        }
    }

    private LicenseTerms() {}

    public static Standing standing(License license, Instant now) {
        if (license.getRevoked()) {
            return Standing.REVOKED;
        }
        if (now.isBefore(license.getValidFrom())) {
            return Standing.NOT_YET_VALID;
        }
        if (!now.isBefore(license.getValidUntil())) {
            return Standing.EXPIRED;
        }
        if (now.isBefore(license.getLeaseExpiresAt())) {
            return Standing.ACTIVE;
        }
        return now.isBefore(license.getGraceUntil()) ? Standing.GRACE : Standing.EXPIRED;
    }
}
