package dev.vigil.schemas;

/**
 * Header names on {@code vigil.ingestion.dead-letter.v1} records. The value and key are the original bytes;
 * these headers say why the record was refused and where it came from, so it can be re-driven after a fix.
 */
public final class DeadLetterHeaders {

    /** A {@link DeadLetterReason} name. */
    public static final String REASON = "vigil_dlq_reason";
    /** A human-readable explanation, bounded in length. */
    public static final String DETAIL = "vigil_dlq_detail";
    /** The topic the record was read from. */
    public static final String SOURCE_TOPIC = "vigil_dlq_source_topic";
    /** The partition it was read from, as decimal text. */
    public static final String SOURCE_PARTITION = "vigil_dlq_source_partition";
    /** The offset it was read from, as decimal text. */
    public static final String SOURCE_OFFSET = "vigil_dlq_source_offset";
    /** The consumer group that refused it. */
    public static final String CONSUMER = "vigil_dlq_consumer";

    private DeadLetterHeaders() {}
}
