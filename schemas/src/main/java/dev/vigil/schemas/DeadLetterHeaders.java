package dev.vigil.schemas;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

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

    /** How much of a detail a header keeps. */
    static final int MAX_DETAIL_CHARS = 1000;

    private DeadLetterHeaders() {}

    /** The refused record's own headers, plus why it was refused, where it came from, and by which consumer. */
    public static RecordHeaders of(
            ConsumerRecord<?, ?> record, DeadLetterReason reason, String detail, String consumerGroup) {
        RecordHeaders headers = new RecordHeaders(record.headers().toArray());
        String bounded = detail == null ? "" : detail.substring(0, Math.min(detail.length(), MAX_DETAIL_CHARS));
        put(headers, REASON, reason.name());
        put(headers, DETAIL, bounded);
        put(headers, SOURCE_TOPIC, record.topic());
        put(headers, SOURCE_PARTITION, String.valueOf(record.partition()));
        put(headers, SOURCE_OFFSET, String.valueOf(record.offset()));
        put(headers, CONSUMER, consumerGroup);
        return headers;
    }

    private static void put(RecordHeaders headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
