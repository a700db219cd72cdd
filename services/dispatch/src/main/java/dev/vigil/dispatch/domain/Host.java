package dev.vigil.dispatch.domain;

import java.time.Instant;
import java.util.UUID;

/** A host whose agent enrolled in a product's channel. */
public record Host(
        String hostId,
        UUID enrolmentId,
        String product,
        String channel,
        String agentVersion,
        Instant enrolledAt,
        Instant lastSeenAt) {}
