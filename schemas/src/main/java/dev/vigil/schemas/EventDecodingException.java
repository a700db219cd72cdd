package dev.vigil.schemas;

import org.apache.kafka.common.errors.SerializationException;

/** Bytes that are not a decodable Vigil event, with the typed reason why. */
public final class EventDecodingException extends SerializationException {

    private final DeadLetterReason reason;

    public EventDecodingException(DeadLetterReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public DeadLetterReason reason() {
        return reason;
    }
}
