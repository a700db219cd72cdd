package dev.vigil.ingestion.api;

/** Paging parameters out of range. */
final class BadPagingException extends RuntimeException {

    BadPagingException(String message) {
        super(message, null, false, false);
    }
}
