package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.common.Envelope;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.generic.IndexedRecord;

/**
 * Decides whether raw bytes from {@code vigil.agent.events.v1} are an event ingestion may record: size, schema,
 * required fields, sane timestamps, known tenant, and text PostgreSQL can store.
 */
@ApplicationScoped
public class AgentEventValidator {

    private final IngestionConfig config;
    private final Clock clock;
    private final EventCodec<AgentEvent> codec = EventCodec.of(AgentEvent.class);

    @Inject
    AgentEventValidator(IngestionConfig config) {
        this(config, Clock.systemUTC());
    }

    AgentEventValidator(IngestionConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    public AgentEvent validate(byte[] value) throws ValidationException {
        if (value == null) {
            throw new ValidationException(DeadLetterReason.MALFORMED, "record has no value");
        }
        if (value.length > config.maxRecordBytes()) {
            throw new ValidationException(
                    DeadLetterReason.OVERSIZED,
                    "record is " + value.length + " bytes; the limit is " + config.maxRecordBytes());
        }
        AgentEvent event;
        try {
            event = codec.decode(value);
        } catch (EventDecodingException e) {
            throw new ValidationException(e.reason(), e.getMessage());
        }
        Envelope envelope = event.getEnvelope();
        requireUuid(envelope.getEventId(), "envelope.eventId");
        require(envelope.getEventType(), "envelope.eventType");
        require(envelope.getTenant(), "envelope.tenant");
        require(envelope.getSource().getHostId(), "envelope.source.hostId");
        require(envelope.getSource().getAgentId(), "envelope.source.agentId");
        require(envelope.getSource().getAgentVersion(), "envelope.source.agentVersion");
        if (event.getVm() != null) {
            require(event.getVm().getUuid(), "vm.uuid");
            require(event.getVm().getName(), "vm.name");
        }
        Instant now = clock.instant();
        Instant occurredAt = envelope.getOccurredAt();
        if (occurredAt.isBefore(now.minus(config.maxEventAge()))
                || occurredAt.isAfter(now.plus(config.maxClockSkew()))) {
            throw new ValidationException(
                    DeadLetterReason.TIMESTAMP_OUT_OF_RANGE,
                    "occurredAt " + occurredAt + " is outside [now - " + config.maxEventAge() + ", now + "
                            + config.maxClockSkew() + "]");
        }
        if (!config.tenants().contains("*") && !config.tenants().contains(envelope.getTenant())) {
            throw new ValidationException(
                    DeadLetterReason.UNKNOWN_TENANT, "tenant " + envelope.getTenant() + " is not served here");
        }
        // PostgreSQL text cannot hold NUL: a hostile string must not stop the stream at insert time.
        if (containsNul(event)) {
            throw new ValidationException(DeadLetterReason.MALFORMED, "a text field contains a NUL character");
        }
        return event;
    }

    private static boolean containsNul(Object value) {
        if (value instanceof CharSequence text) {
            return text.toString().indexOf('\u0000') >= 0;
        }
        if (value instanceof IndexedRecord record) {
            for (int i = 0; i < record.getSchema().getFields().size(); i++) {
                if (containsNul(record.get(i))) {
                    return true;
                }
            }
            return false;
        }
        if (value instanceof Collection<?> items) {
            return items.stream().anyMatch(AgentEventValidator::containsNul);
        }
        if (value instanceof Map<?, ?> map) {
            return map.entrySet().stream().anyMatch(e -> containsNul(e.getKey()) || containsNul(e.getValue()));
        }
        return false;
    }

    private static void require(String value, String field) throws ValidationException {
        if (value == null || value.isBlank()) {
            throw new ValidationException(DeadLetterReason.MISSING_FIELD, field + " is missing or blank");
        }
    }

    private static void requireUuid(String value, String field) throws ValidationException {
        require(value, field);
        try {
            UUID.fromString(value);
        } catch (IllegalArgumentException e) {
            throw new ValidationException(DeadLetterReason.MALFORMED, field + " is not a UUID");
        }
    }
}
