package dev.vigil.devstack;

/** The embedded stack cannot start; the message says what is wrong and how to fix it. */
public final class DevstackException extends RuntimeException {

    public DevstackException(String message) {
        super(message);
    }

    public DevstackException(String message, Throwable cause) {
        super(message, cause);
    }
}
