package dev.vigil.dispatch.service;

/** Dispatch does not hold enough of a role's keys to sign for it. */
public final class MissingKeysException extends RuntimeException {

    MissingKeysException(String message) {
        super(message);
    }
}
