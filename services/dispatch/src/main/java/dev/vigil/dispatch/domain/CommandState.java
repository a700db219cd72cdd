package dev.vigil.dispatch.domain;

/**
 * Where a command is: issued (recorded, not yet fetched), delivered (its agent fetched it), acknowledged (the agent
 * verified it and is running it), then succeeded, failed or refused as the agent reports, or expired when no agent
 * acknowledged it in time. The agent's word wins over an expiry dispatch assumed; a final outcome stands.
 */
public enum CommandState {
    ISSUED,
    DELIVERED,
    ACKNOWLEDGED,
    SUCCEEDED,
    FAILED,
    REFUSED,
    EXPIRED;

    /** What the agent reported last about a command; never changed by a later report. */
    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == REFUSED;
    }

    /**
     * The state after an agent's result.
     *
     * @param status the result's status: ACCEPTED, SUCCEEDED, FAILED or REFUSED; anything else changes nothing
     */
    public CommandState after(String status) {
        if (isFinal()) {
            // A duplicate delivery is refused as REPLAYED after the command ran; a late acknowledgement is stale.
            return this;
        }
        return switch (status) {
            case "ACCEPTED" -> ACKNOWLEDGED;
            case "SUCCEEDED" -> SUCCEEDED;
            case "FAILED" -> FAILED;
            case "REFUSED" -> REFUSED;
            default -> this;
        };
    }
}
