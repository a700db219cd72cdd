package dev.vigil.ingestion.api;

/** Query parameters out of range or malformed (paging, dates): a 400 with the reason. */
final class BadQueryException extends RuntimeException {

    BadQueryException(String message) {
        super(message, null, false, false);
    }
}
