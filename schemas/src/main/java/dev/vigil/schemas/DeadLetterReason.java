package dev.vigil.schemas;

/** Why a consumer refused a record and sent it to the dead-letter topic (header {@link DeadLetterHeaders#REASON}). */
public enum DeadLetterReason {
    /** Not Avro single-object encoding, or the body does not decode with the announced schema. */
    MALFORMED,
    /** Single-object encoding whose schema fingerprint matches no released version. */
    UNKNOWN_SCHEMA,
    /** A required field is absent or blank. */
    MISSING_FIELD,
    /** The event's timestamp is too far in the past or the future. */
    TIMESTAMP_OUT_OF_RANGE,
    /** The record is larger than the consumer's size limit. */
    OVERSIZED,
    /** The envelope names a tenant the consumer does not serve. */
    UNKNOWN_TENANT,
    /**
     * The record is not sealed by the record key of the host and tenant its envelope names ({@link RecordSeals}): an
     * agent writing as another host, or a host that never enrolled.
     */
    IDENTITY_MISMATCH,
    /** The record's host was revoked by the vendor (dispatch's {@code vigil.dispatch.host-revocations.v1}). */
    HOST_REVOKED,
    /** A command result names a command the consumer never issued. */
    UNKNOWN_COMMAND,
    /**
     * The record decoded, but processing it failed on every retry (a database or store refusing it, or a bug); the
     * detail says why. Replay it once the cause is fixed.
     */
    PROCESSING_FAILED
}
