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
        String revocationReason) {

    /** A fresh lease from {@code now}, within the term; the next document. */
    public LicenseRecord renewed(Instant now) {
        Instant lease = earlier(now.plusSeconds(leaseSeconds), validUntil);
        return new LicenseRecord(
                id,
                product,
                hostId,
                enrolmentId,
                features,
                validFrom,
                validUntil,
                leaseSeconds,
                graceSeconds,
                sequence + 1,
                lease,
                earlier(lease.plusSeconds(graceSeconds), validUntil),
                null,
                issuedBy,
                issuedAt,
                now,
                revokedAt,
                revokedBy,
                revocationReason);
    }

    /** The term moved to end at {@code until}, with a fresh lease from {@code now}. */
    public LicenseRecord extended(Instant until, Instant now) {
        return new LicenseRecord(
                        id,
                        product,
                        hostId,
                        enrolmentId,
                        features,
                        validFrom,
                        until,
                        leaseSeconds,
                        graceSeconds,
                        sequence,
                        leaseExpiresAt,
                        graceUntil,
                        document,
                        issuedBy,
                        issuedAt,
                        renewedAt,
                        revokedAt,
                        revokedBy,
                        revocationReason)
                .renewed(now);
    }

    /** Revoked at {@code now}; the next document. */
    public LicenseRecord revoked(Instant now, String by, String reason) {
        return new LicenseRecord(
                id,
                product,
                hostId,
                enrolmentId,
                features,
                validFrom,
                validUntil,
                leaseSeconds,
                graceSeconds,
                sequence + 1,
                leaseExpiresAt,
                graceUntil,
                null,
                issuedBy,
                issuedAt,
                renewedAt,
                now,
                by,
                reason);
    }

    /** With the signed document issued for this state. */
    public LicenseRecord withDocument(byte[] signed) {
        return new LicenseRecord(
                id,
                product,
                hostId,
                enrolmentId,
                features,
                validFrom,
                validUntil,
                leaseSeconds,
                graceSeconds,
                sequence,
                leaseExpiresAt,
                graceUntil,
                signed,
                issuedBy,
                issuedAt,
                renewedAt,
                revokedAt,
                revokedBy,
                revocationReason);
    }

    private static Instant earlier(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
