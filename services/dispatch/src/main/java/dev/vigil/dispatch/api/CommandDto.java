package dev.vigil.dispatch.api;

import dev.vigil.dispatch.domain.Command;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

/** A command and what became of it. */
public record CommandDto(
        UUID id,
        String hostId,
        String vmUuid,
        String action,
        Map<String, String> arguments,
        long sequence,
        String state,
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

    static CommandDto of(Command c) {
        return new CommandDto(
                c.id(),
                c.hostId(),
                c.vmUuid(),
                c.action(),
                c.arguments(),
                c.sequence(),
                c.state().name(),
                c.origin(),
                c.rolloutId(),
                c.issuedBy(),
                c.issuedAt(),
                c.expiresAt(),
                c.deliveredAt(),
                c.acknowledgedAt(),
                c.completedAt(),
                c.refusal(),
                c.message());
    }
}
