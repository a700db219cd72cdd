package dev.vigil.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes a contract record in Avro single-object encoding (fingerprint first) and decodes every released
 * version of its schema by fingerprint, so no registry server is needed.
 *
 * <p>Released versions live on the classpath at {@code dev/vigil/schemas/released/<full name>/v<N>.avsc}.
 */
public final class EventCodec<T extends SpecificRecord> {

    static final String RELEASED_ROOT = "dev/vigil/schemas/released/";
    /** No Vigil record holds a string or byte field this large; a forged length must not allocate it. */
    private static final String MAX_FIELD_BYTES = String.valueOf(16 * 1024 * 1024);

    private static final ConcurrentMap<Class<?>, EventCodec<?>> CODECS = new ConcurrentHashMap<>();

    private final Class<T> type;
    private final Schema schema;
    private final List<Schema> released;
    private final int currentVersion;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    static {
        // Avro reads these once; keep an operator's explicit setting.
        if (System.getProperty("org.apache.avro.limits.string.maxLength") == null) {
            System.setProperty("org.apache.avro.limits.string.maxLength", MAX_FIELD_BYTES);
        }
        if (System.getProperty("org.apache.avro.limits.bytes.maxLength") == null) {
            System.setProperty("org.apache.avro.limits.bytes.maxLength", MAX_FIELD_BYTES);
        }
    }

    private EventCodec(Class<T> type) {
        this.type = type;
        // The generated class's own loader: a thread context loader may see a different copy of the class.
        SpecificData model = new SpecificData(type.getClassLoader());
        this.schema = model.getSchema(type);
        this.released = loadReleased(type, schema.getFullName());
        this.currentVersion = versionOf(schema, released);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        for (Schema old : released) {
            decoder.addSchema(old);
        }
    }

    /** The shared codec of a generated contract class. */
    @SuppressWarnings("unchecked")
    public static <T extends SpecificRecord> EventCodec<T> of(Class<T> type) {
        return (EventCodec<T>) CODECS.computeIfAbsent(type, t -> new EventCodec<>(type));
    }

    public Class<T> type() {
        return type;
    }

    /** The schema this build writes. */
    public Schema schema() {
        return schema;
    }

    /** Released versions, oldest first (v1 at index 0). */
    public List<Schema> released() {
        return released;
    }

    /** The version number of the schema this build writes: a released one, or the next if unreleased. */
    public int currentVersion() {
        return currentVersion;
    }

    public byte[] encode(T record) {
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Decodes bytes written with any released version of this schema.
     *
     * @throws EventDecodingException with {@link DeadLetterReason#UNKNOWN_SCHEMA} for an unknown fingerprint and
     *     {@link DeadLetterReason#MALFORMED} for anything else that does not decode
     */
    public T decode(byte[] bytes) {
        if (bytes == null) {
            throw new EventDecodingException(DeadLetterReason.MALFORMED, "record has no value", null);
        }
        try {
            return decoder.decode(bytes);
        } catch (MissingSchemaException e) {
            throw new EventDecodingException(
                    DeadLetterReason.UNKNOWN_SCHEMA,
                    "no released " + schema.getName() + " schema has the record's fingerprint",
                    e);
        } catch (BadHeaderException e) {
            throw new EventDecodingException(
                    DeadLetterReason.MALFORMED, "not Avro single-object encoding: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            // Untrusted bytes: whatever the decoder trips on (limits, bounds, bad unions) means MALFORMED.
            throw new EventDecodingException(
                    DeadLetterReason.MALFORMED, "body does not decode as " + schema.getName() + ": " + e, e);
        }
    }

    private static List<Schema> loadReleased(Class<?> type, String fullName) {
        List<Schema> versions = new ArrayList<>();
        for (int v = 1; ; v++) {
            String path = RELEASED_ROOT + fullName + "/v" + v + ".avsc";
            try (InputStream in = type.getClassLoader().getResourceAsStream(path)) {
                if (in == null) {
                    return List.copyOf(versions);
                }
                versions.add(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read released schema " + path, e);
            }
        }
    }

    private static int versionOf(Schema current, List<Schema> released) {
        long fingerprint = SchemaNormalization.parsingFingerprint64(current);
        for (int i = released.size() - 1; i >= 0; i--) {
            if (SchemaNormalization.parsingFingerprint64(released.get(i)) == fingerprint) {
                return i + 1;
            }
        }
        return released.size() + 1;
    }
}
