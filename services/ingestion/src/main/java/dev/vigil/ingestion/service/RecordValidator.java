package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.schemas.DeadLetterReason;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.RecordSeals.Seal;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.serviceauth.RecordKeys;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificRecord;

/**
 * Decides whether raw bytes from an agent topic are a record ingestion may keep: size, schema (any released
 * version), the envelope's and the kind's required fields, a sane timestamp, a known tenant, text PostgreSQL can
 * store, and the seal of the host the envelope names ({@link RecordSeals}). Started with the service, so a deployment
 * that enforces identity without a record-key secret stops at once with the reason.
 */
@ApplicationScoped
@Startup
public class RecordValidator {

    private static final System.Logger LOG = System.getLogger(RecordValidator.class.getName());

    private final IngestionConfig config;
    private final Clock clock;
    private final RecordSeals.Verifier identity;
    private final RevokedHosts revoked;

    @Inject
    RecordValidator(IngestionConfig config, RecordKeys keys, RevokedHosts revoked) {
        this(config, Clock.systemUTC(), config.enforceIdentity() ? keys.verifier() : null, revoked);
        if (identity == null) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "agent records are not checked against their hosts' record keys"
                            + " (vigil.ingestion.identity.enforce=false): any producer can write as any host");
        }
    }

    /** @param identity checks records' seals; null accepts any host's record unsealed */
    RecordValidator(IngestionConfig config, Clock clock, RecordSeals.Verifier identity) {
        this(config, clock, identity, RevokedHosts.of());
    }

    /**
     * @param identity checks records' seals; null accepts any host's record unsealed
     * @param revoked the hosts the vendor revoked, whose records are refused
     */
    RecordValidator(IngestionConfig config, Clock clock, RecordSeals.Verifier identity, RevokedHosts revoked) {
        this.config = config;
        this.clock = clock;
        this.identity = identity;
        this.revoked = revoked;
    }

    /** Validates an agent event (a VM, when present, needs its UUID and name). */
    public AgentEvent validate(byte[] value, Seal seal) throws ValidationException {
        return validate(
                value,
                seal,
                AgentEvent.class,
                event -> event.getVm() == null
                        ? Map.of()
                        : Map.of(
                                "vm.uuid",
                                event.getVm().getUuid(),
                                "vm.name",
                                event.getVm().getName()));
    }

    /**
     * Validates a record of any contract type that carries the common envelope.
     *
     * @param required the kind's own required fields (name to value), checked to be present and not blank
     */
    public <T extends SpecificRecord> T validate(
            byte[] value, Seal seal, Class<T> type, Function<T, Map<String, String>> required)
            throws ValidationException {
        T event = check(value, seal, EventCodec.of(type)::decode);
        for (Map.Entry<String, String> field : required.apply(event).entrySet()) {
            require(field.getValue(), field.getKey());
        }
        return event;
    }

    /**
     * Validates a record decoded through a projection of its contract: the same checks, on the fields the
     * projection keeps (it must keep the envelope). Text it skips is not read, so not checked for NUL either: the
     * NUL check protects what this service stores.
     */
    public GenericRecord validate(byte[] value, Seal seal, EventCodec.Projection projection)
            throws ValidationException {
        return check(value, seal, projection::decode);
    }

    private <T extends IndexedRecord> T check(byte[] value, Seal seal, Function<byte[], T> decoder)
            throws ValidationException {
        if (value == null) {
            throw new ValidationException(DeadLetterReason.MALFORMED, "record has no value");
        }
        if (value.length > config.maxRecordBytes()) {
            throw new ValidationException(
                    DeadLetterReason.OVERSIZED,
                    "record is " + value.length + " bytes; the limit is " + config.maxRecordBytes());
        }
        T event;
        try {
            event = decoder.apply(value);
        } catch (EventDecodingException e) {
            throw new ValidationException(e.reason(), e.getMessage());
        }
        IndexedRecord envelope = (IndexedRecord) field(event, "envelope");
        IndexedRecord source = (IndexedRecord) field(envelope, "source");
        String tenant = text(envelope, "tenant");
        requireUuid(text(envelope, "eventId"), "envelope.eventId");
        require(text(envelope, "eventType"), "envelope.eventType");
        require(tenant, "envelope.tenant");
        String hostId = text(source, "hostId");
        require(hostId, "envelope.source.hostId");
        require(text(source, "agentId"), "envelope.source.agentId");
        require(text(source, "agentVersion"), "envelope.source.agentVersion");
        Instant now = clock.instant();
        Instant occurredAt = (Instant) field(envelope, "occurredAt");
        if (occurredAt.isBefore(now.minus(config.maxEventAge()))
                || occurredAt.isAfter(now.plus(config.maxClockSkew()))) {
            throw new ValidationException(
                    DeadLetterReason.TIMESTAMP_OUT_OF_RANGE,
                    "occurredAt " + occurredAt + " is outside [now - " + config.maxEventAge() + ", now + "
                            + config.maxClockSkew() + "]");
        }
        if (!config.tenants().contains("*") && !config.tenants().contains(tenant)) {
            throw new ValidationException(DeadLetterReason.UNKNOWN_TENANT, "tenant " + tenant + " is not served here");
        }
        // PostgreSQL text cannot hold NUL: a hostile string must not stop the stream at insert time.
        if (containsNul(event)) {
            throw new ValidationException(DeadLetterReason.MALFORMED, "a text field contains a NUL character");
        }
        if (identity != null) {
            String problem = identity.problem(tenant, hostId, seal, value);
            if (problem != null) {
                throw new ValidationException(DeadLetterReason.IDENTITY_MISMATCH, problem);
            }
        }
        RevokedHosts.Revoked revocation = revoked.revoked(tenant, hostId);
        if (revocation != null) {
            throw new ValidationException(
                    DeadLetterReason.HOST_REVOKED,
                    "host " + hostId + " of tenant " + tenant + " was revoked at " + revocation.at() + " by "
                            + revocation.by() + ": " + bounded(revocation.reason()));
        }
        return event;
    }

    /**
     * Refuses a record that points at an object outside its own host's prefix (ADR 0007): upload links write only
     * there, so a key elsewhere is another host's evidence or none. Accepted as it is when identity is not enforced.
     *
     * @param key the object key the record names; null when it names none
     */
    public void requireOwnObject(Envelope envelope, String key) throws ValidationException {
        if (identity == null || key == null) {
            return;
        }
        String tenant = envelope.getTenant();
        String host = envelope.getSource().getHostId();
        if (!ObjectKeys.ownedBy(key, tenant, host)) {
            throw new ValidationException(
                    DeadLetterReason.IDENTITY_MISMATCH,
                    "object key " + bounded(key) + " is not one of host " + host + "'s ("
                            + ObjectKeys.hostPrefix(tenant, host) + "sha256/<2 hex>/<sha256>): a host may only point"
                            + " at its own objects");
        }
    }

    private static String bounded(String text) {
        return text.length() <= 200 ? "'" + text + "'" : "'" + text.substring(0, 200) + "...'";
    }

    private static Object field(IndexedRecord record, String name) {
        return record.get(record.getSchema().getField(name).pos());
    }

    private static String text(IndexedRecord record, String name) {
        Object value = field(record, name);
        return value == null ? null : value.toString();
    }

    /**
     * Keyed by identity: generated classes each parse their own copy of a nested schema, so equal schemas arrive as
     * different instances, and {@code Schema.equals} compares them in depth (it took 40% of the samples channel's
     * time at saturation). The maps are replaced, never changed, so reads take no lock.
     */
    private static volatile Map<Schema, Boolean> canHoldText = new IdentityHashMap<>();

    /** Per record schema (by identity), the positions of its fields that can hold text. */
    private static volatile Map<Schema, int[]> textFields = new IdentityHashMap<>();

    /**
     * Walks only the parts of the record whose schema can hold text: counters and enums are skipped unboxed, with one
     * lookup per record rather than one per field.
     */
    private static boolean containsNul(IndexedRecord record) {
        Schema schema = record.getSchema();
        int[] positions = textFields(schema);
        if (positions.length == 0) {
            return false;
        }
        List<Schema.Field> fields = schema.getFields();
        for (int position : positions) {
            if (containsNul(record.get(position), fields.get(position).schema())) {
                return true;
            }
        }
        return false;
    }

    private static int[] textFields(Schema record) {
        int[] known = textFields.get(record);
        if (known == null) {
            known = record.getFields().stream()
                    .filter(f -> canHoldText(f.schema()))
                    .mapToInt(Schema.Field::pos)
                    .toArray();
            synchronized (RecordValidator.class) {
                Map<Schema, int[]> next = new IdentityHashMap<>(textFields);
                next.put(record, known);
                textFields = next;
            }
        }
        return known;
    }

    private static boolean containsNul(Object value, Schema schema) {
        if (value == null) {
            return false;
        }
        if (value instanceof CharSequence text) {
            return text.toString().indexOf('\u0000') >= 0;
        }
        if (value instanceof IndexedRecord record) {
            return containsNul(record);
        }
        if (value instanceof Collection<?> items) {
            Schema element = branch(schema, Schema.Type.ARRAY).getElementType();
            if (!canHoldText(element)) {
                return false;
            }
            for (Object item : items) {
                if (containsNul(item, element)) {
                    return true;
                }
            }
            return false;
        }
        if (value instanceof Map<?, ?> map) {
            Schema values = branch(schema, Schema.Type.MAP).getValueType();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (containsNul(e.getKey(), values) || containsNul(e.getValue(), values)) {
                    return true;
                }
            }
            return false;
        }
        return false;
    }

    private static Schema branch(Schema schema, Schema.Type type) {
        if (schema.getType() != Schema.Type.UNION) {
            return schema;
        }
        for (Schema s : schema.getTypes()) {
            if (s.getType() == type) {
                return s;
            }
        }
        throw new IllegalStateException("a " + type + " value in a union without a " + type + " branch");
    }

    /** Whether a value of this schema can contain a string anywhere (computed once per schema). */
    static boolean canHoldText(Schema schema) {
        Boolean known = canHoldText.get(schema);
        if (known == null) {
            known = canHoldText(schema, new HashSet<>());
            synchronized (RecordValidator.class) {
                Map<Schema, Boolean> next = new IdentityHashMap<>(canHoldText);
                next.put(schema, known);
                canHoldText = next;
            }
        }
        return known;
    }

    private static boolean canHoldText(Schema schema, Set<String> visiting) {
        return switch (schema.getType()) {
            case STRING, MAP -> true;
            case ARRAY -> canHoldText(schema.getElementType(), visiting);
            case UNION -> schema.getTypes().stream().anyMatch(s -> canHoldText(s, visiting));
            case RECORD ->
                visiting.add(schema.getFullName())
                        && schema.getFields().stream().anyMatch(f -> canHoldText(f.schema(), visiting));
            default -> false;
        };
    }

    private static void require(String value, String field) throws ValidationException {
        if (value == null || value.isBlank()) {
            throw new ValidationException(DeadLetterReason.MISSING_FIELD, field + " is missing or blank");
        }
    }

    private static void requireUuid(String value, String field) throws ValidationException {
        require(value, field);
        if (!isUuid(value)) {
            throw new ValidationException(DeadLetterReason.MALFORMED, field + " is not a UUID");
        }
    }

    /**
     * Whether {@code text} is a UUID in its 36-character form (8-4-4-4-12 hex digits, either case): the form agents
     * send, and one PostgreSQL's {@code uuid} type reads. {@code UUID.fromString} also takes shorter groups
     * such as {@code 1-2-3-4-5}, which PostgreSQL refuses.
     */
    static boolean isUuid(CharSequence text) {
        if (text.length() != 36) {
            return false;
        }
        // Without a data-dependent branch per character: on random hex, "digit or letter?" mispredicts about half
        // the time. Measured on the build machine: 135 ns an id with such branches, 55-70 ns like this.
        int bad = 0;
        for (int i = 0; i < 36; i++) {
            char c = text.charAt(i);
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                bad |= c ^ '-';
            } else {
                bad |= c >= 128 ? 1 : (int) (~(HEX_DIGITS[c >> 6] >>> c) & 1);
            }
        }
        return bad == 0;
    }

    /** Bit {@code c} is set for the hex digit characters {@code c} below 128 (upper and lower case). */
    private static final long[] HEX_DIGITS = new long[2];

    static {
        for (char c : "0123456789abcdefABCDEF".toCharArray()) {
            HEX_DIGITS[c >> 6] |= 1L << c;
        }
    }
}
