package dev.vigil.ingestion.service;

import dev.vigil.schemas.DeadLetterReason;

/** A record that must not be recorded, with the typed reason it goes to the dead-letter topic under. */
public final class ValidationException extends Exception {

    private final DeadLetterReason reason;

    public ValidationException(DeadLetterReason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public DeadLetterReason reason() {
        return reason;
    }
}
