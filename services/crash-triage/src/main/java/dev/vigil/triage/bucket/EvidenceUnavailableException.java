package dev.vigil.triage.bucket;

/** The object store could not be read just now: the report is tried again rather than filed without its evidence. */
public final class EvidenceUnavailableException extends RuntimeException {

    public EvidenceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
