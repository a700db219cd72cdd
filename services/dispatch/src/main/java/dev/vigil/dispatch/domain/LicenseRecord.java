package dev.vigil.dispatch.domain;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** A license as dispatch keeps it, with the signed document last issued for it. */
public record LicenseRecord(
        UUID id,
        String product,
        String hostId,
        UUID enrolmentId,
        List<String> features,
        Instant validFrom,
        Instant validUntil,
        long leaseSeconds,
        long graceSeconds,
        long sequence,
        Instant leaseExpiresAt,
        Instant graceUntil,
        byte[] document,
        String issuedBy,
        Instant issuedAt,
        Instant renewedAt,
        Instant revokedAt,
        String revokedBy,
        String revocationReason) {}
