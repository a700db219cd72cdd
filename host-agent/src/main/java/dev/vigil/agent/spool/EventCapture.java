package dev.vigil.agent.spool;

import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.Topic;
import dev.vigil.schemas.common.Envelope;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/** Encodes an event for its topic (Avro single-object body, CloudEvents headers) and makes it durable in the spool. */
public final class EventCapture {

    private final Spool spool;
    private volatile Consumer<SpecificRecord> observer = record -> {};

    public EventCapture(Spool spool) {
        this.spool = spool;
    }

    /** Shown every record once it is durable (the flight recorder and crash capture watch here); must not block. */
    public void observe(Consumer<SpecificRecord> observer) {
        this.observer = observer;
    }

    /**
     * Captures one event: when this returns true the event is on disk and will reach Kafka.
     *
     * @return false only for a sample shed because the spool is full
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public boolean capture(Lane lane, Topic topic, String key, SpecificRecord event) throws IOException {
        Envelope envelope =
                (Envelope) event.get(event.getSchema().getField("envelope").pos());
        RecordHeaders headers = new RecordHeaders();
        CloudEventHeaders.write(headers, envelope);
        Map<String, byte[]> headerMap = new LinkedHashMap<>();
        for (Header header : headers) {
            headerMap.put(header.key(), header.value());
        }
        byte[] value = ((EventCodec) EventCodec.of(event.getClass())).encode(event);
        boolean kept = spool.append(lane, new SpoolRecord(topic.name(), key, envelope.getEventId(), headerMap, value));
        if (kept) {
            observer.accept(event);
        }
        return kept;
    }

    /** Raw spooling for records already encoded elsewhere (e.g. feedback files dropped by the CLI). */
    public boolean capture(Lane lane, SpoolRecord record) throws IOException {
        return spool.append(lane, record);
    }
}
