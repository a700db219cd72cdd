package dev.vigil.schemas;

import dev.vigil.schemas.common.Envelope;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serializer;

/** Kafka serializer for a contract record: single-object Avro body plus CloudEvents headers from its envelope. */
public final class EventSerializer<T extends SpecificRecord> implements Serializer<T> {

    private final EventCodec<T> codec;
    private final int envelopePosition;

    public EventSerializer(Class<T> type) {
        this.codec = EventCodec.of(type);
        Schema.Field envelope = codec.schema().getField("envelope");
        this.envelopePosition = envelope == null ? -1 : envelope.pos();
    }

    @Override
    public byte[] serialize(String topic, T data) {
        return data == null ? null : codec.encode(data);
    }

    @Override
    public byte[] serialize(String topic, Headers headers, T data) {
        if (data == null) {
            return null;
        }
        if (envelopePosition >= 0 && headers != null) {
            CloudEventHeaders.write(headers, (Envelope) data.get(envelopePosition));
        }
        return codec.encode(data);
    }
}
