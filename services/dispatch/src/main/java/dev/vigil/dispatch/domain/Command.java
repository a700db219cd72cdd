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

    /**
     * This command after an agent's result that dispatch recorded at {@code at}: in state {@code next}; acknowledged
     * then if it was not before; completed then, with the result's refusal, unless the result is the acknowledgement.
     */
    public Command after(CommandState next, Instant at, String resultRefusal, String resultMessage) {
        boolean acknowledgement = next == CommandState.ACKNOWLEDGED;
        return new Command(
                id,
                hostId,
                vmUuid,
                action,
                arguments,
                sequence,
                next,
                origin,
                rolloutId,
                issuedBy,
                issuedAt,
                expiresAt,
                deliveredAt,
                acknowledgedAt == null && acknowledgement ? at : acknowledgedAt,
                acknowledgement ? completedAt : at,
                acknowledgement ? refusal : resultRefusal,
                resultMessage);
    }
}
