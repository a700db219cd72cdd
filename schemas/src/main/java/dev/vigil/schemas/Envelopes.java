package dev.vigil.schemas;

import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.common.Source;
import java.time.Instant;
import java.util.Locale;
import java.util.UUID;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;

/** Builds the common envelope every Vigil event carries. */
public final class Envelopes {

    private Envelopes() {}

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
        return create(
                recordType,
                payloadSchema,
                source,
                tenant,
                occurredAt,
                UUID.randomUUID().toString());
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
