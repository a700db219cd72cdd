package dev.vigil.schemas;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka deserializer for a contract record; reads every released schema version and throws a typed
 * {@link EventDecodingException} for anything else.
 */
public final class EventDeserializer<T extends SpecificRecord> implements Deserializer<T> {

    private final EventCodec<T> codec;

    public EventDeserializer(Class<T> type) {
        this.codec = EventCodec.of(type);
    }

    @Override
    public T deserialize(String topic, byte[] data) {
        return data == null ? null : codec.decode(data);
    }
}
