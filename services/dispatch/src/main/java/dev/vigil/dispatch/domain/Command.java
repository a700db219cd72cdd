package dev.vigil.dispatch.domain;

import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A signed command to a host's agent and what became of it. */
public record Command(
        UUID id,
        String hostId,
        String vmUuid,
        String action,
        Map<String, String> arguments,
        long sequence,
        CommandState state,
        String origin,
        UUID rolloutId,
        String issuedBy,
        Instant issuedAt,
        Instant expiresAt,
        Instant deliveredAt,
        Instant acknowledgedAt,
        Instant completedAt,
        String refusal,
        String message) {

    /** Who asked for a command. */
    public static final String OPERATOR = "operator";

    public static final String COLLECTION = "collection";
    public static final String LICENSE = "license";
    public static final String ROLLOUT = "rollout";
}
