package dev.vigil.schemas;

import dev.vigil.schemas.common.Envelope;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * CloudEvents 1.0 Kafka binary-mode headers, so any tool can route Vigil records without decoding Avro.
 */
public final class CloudEventHeaders {

    public static final String ID = "ce_id";
    public static final String TYPE = "ce_type";
    public static final String SOURCE = "ce_source";
    public static final String TIME = "ce_time";
    public static final String SPEC_VERSION = "ce_specversion";
    public static final String CONTENT_TYPE = "content-type";
    public static final String SPEC_VERSION_VALUE = "1.0";
    /** Avro binary, single-object encoding (the schema fingerprint leads the body). */
    public static final String AVRO_CONTENT_TYPE = "application/avro";

    private CloudEventHeaders() {}

    /** Replaces the CloudEvents headers with values taken from the envelope. */
    public static void write(Headers headers, Envelope envelope) {
        put(headers, ID, envelope.getEventId());
        put(headers, TYPE, envelope.getEventType());
        put(headers, SOURCE, source(envelope));
        put(headers, TIME, envelope.getOccurredAt().toString());
        put(headers, SPEC_VERSION, SPEC_VERSION_VALUE);
        put(headers, CONTENT_TYPE, AVRO_CONTENT_TYPE);
    }

    /** The last value of a header as UTF-8 text, or {@code null} when absent. */
    public static String read(Headers headers, String name) {
        Header header = headers.lastHeader(name);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** The CloudEvents source of an envelope: the agent on a host. */
    public static String source(Envelope envelope) {
        return "/vigil/hosts/" + envelope.getSource().getHostId() + "/agents/"
                + envelope.getSource().getAgentId();
    }

    private static void put(Headers headers, String name, String value) {
        headers.remove(name);
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
