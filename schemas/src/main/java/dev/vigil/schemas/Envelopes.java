package dev.vigil.schemas;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.common.Source;
import java.time.Instant;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/** Builds the common envelope every Vigil event carries. */
public final class Envelopes {

    /**
     * Fresh event ids are RFC 9562 version 7 UUIDs: the creation time in milliseconds, then random bits (kept
     * increasing within a millisecond by this generator). Every store keys its rows by event id, and ids in
     * creation order land at the right edge of those indexes instead of on a random page each (inserting random,
     * version 4, ids into ingestion's dedupe index took more than twice the backend time). The time an id carries
     * is when its envelope was made, next to the {@code occurredAt} the record states anyway.
     */
    private static final TimeBasedEpochGenerator EVENT_IDS = Generators.timeBasedEpochGenerator();

    private Envelopes() {}

    /** A fresh event id: a time-ordered (version 7) UUID. */
    public static String newEventId() {
        return EVENT_IDS.generate().toString();
    }

    /**
     * A fresh envelope for a record of {@code recordType} whose payload is {@code payloadSchema}.
     *
     * @param occurredAt when the observed thing happened (not when it was published)
     */
    public static Envelope create(
            Class<? extends SpecificRecord> recordType,
            Schema payloadSchema,
            Source source,
            String tenant,
            Instant occurredAt) {
        return create(recordType, payloadSchema, source, tenant, occurredAt, newEventId());
    }

    /**
     * An envelope with a given event id: for events whose id is derived from what they describe, so that a repeat
     * is recognized downstream.
     */
    public static Envelope create(
            Class<? extends SpecificRecord> recordType,
            Schema payloadSchema,
            Source source,
            String tenant,
            Instant occurredAt,
            String eventId) {
        return Envelope.newBuilder()
                .setEventId(eventId)
                .setEventType(eventType(payloadSchema))
                .setOccurredAt(occurredAt)
                .setSource(source)
                .setTenant(tenant)
                .setSchemaVersion(EventCodec.of(recordType).currentVersion())
                .build();
    }

    /**
     * The CloudEvents type of a payload: {@code dev.vigil.<domain>.<kebab-case record name>}, e.g.
     * {@code dev.vigil.agent.lifecycle}.
     */
    public static String eventType(Schema payloadSchema) {
        String namespace = payloadSchema.getNamespace();
        String domain = namespace.substring(namespace.lastIndexOf('.') + 1);
        String kebab =
                payloadSchema.getName().replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
        return "dev.vigil." + domain + "." + kebab;
    }
}
