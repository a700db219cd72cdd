package dev.vigil.dispatch.domain;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A user's enrolment in a programme, redeemed once by the agent on their machine. */
public record Enrolment(
        UUID id,
        String program,
        String name,
        String email,
        Map<String, String> parameters,
        long rootVersion,
        Instant tokenExpiresAt,
        Instant redeemedAt,
        String hostId,
        Instant createdAt) {}
