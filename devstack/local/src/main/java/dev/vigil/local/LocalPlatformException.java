package dev.vigil.local;

/** The local platform cannot start; the message says what to do. */
final class LocalPlatformException extends RuntimeException {

    LocalPlatformException(String message) {
        super(message);
    }
}
