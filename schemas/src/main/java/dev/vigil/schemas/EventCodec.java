package dev.vigil.schemas;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
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
    /** Nor an array or map this long; a forged item count must not allocate it. */
    private static final String MAX_COLLECTION_ITEMS = String.valueOf(1024 * 1024);
    /** Single-object encoding: {@code C3 01}, then the writer schema's 64-bit parsing fingerprint, little-endian. */
    private static final int HEADER_BYTES = 10;

    private static final ThreadLocal<BinaryDecoder> DECODERS = new ThreadLocal<>();

    private static final ConcurrentMap<Class<?>, EventCodec<?>> CODECS = new ConcurrentHashMap<>();

    private final Class<T> type;
    private final Schema schema;
    private final List<Schema> released;
    private final int currentVersion;
    private final BinaryMessageEncoder<T> encoder;
    /** A reader per writer schema (every released version and this build's), by fingerprint. */
    private final Map<Long, DatumReader<T>> readers;

    static {
        // Avro reads these once; keep an operator's explicit setting.
        if (System.getProperty("org.apache.avro.limits.string.maxLength") == null) {
            System.setProperty("org.apache.avro.limits.string.maxLength", MAX_FIELD_BYTES);
        }
        if (System.getProperty("org.apache.avro.limits.bytes.maxLength") == null) {
            System.setProperty("org.apache.avro.limits.bytes.maxLength", MAX_FIELD_BYTES);
        }
        if (System.getProperty("org.apache.avro.limits.collectionItems.maxLength") == null) {
            System.setProperty("org.apache.avro.limits.collectionItems.maxLength", MAX_COLLECTION_ITEMS);
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
        Map<Long, DatumReader<T>> byFingerprint = new HashMap<>();
        for (Schema writer : writers()) {
            byFingerprint.put(
                    SchemaNormalization.parsingFingerprint64(writer), new SpecificDatumReader<>(writer, schema, model));
        }
        this.readers = Map.copyOf(byFingerprint);
    }

    private List<Schema> writers() {
        List<Schema> writers = new ArrayList<>(released);
        writers.add(schema);
        return writers;
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
        return decode(bytes, readers, schema.getName(), false);
    }

    /**
     * As {@link #decode}, and the record must end where the bytes end: for signed documents, whose bytes are pinned
     * by hash, nothing may ride along after the record.
     */
    public T decodeWhole(byte[] bytes) {
        return decode(bytes, readers, schema.getName(), true);
    }

    /**
     * A decoder of this contract into a projection of it: a reader schema that keeps only the named fields, so
     * Avro's schema resolution skips the rest of every released version without building it. A consumer that
     * stores a few fields of a large, frequent record (samples) decodes a fraction of it.
     *
     * @param keep dotted field paths from the record's root; a path names a field to keep whole, and its prefixes
     *     are kept as far as needed to reach it ({@code "vms.blocks.readBytes"} keeps only {@code readBytes} of each
     *     block of each VM sample)
     * @throws IllegalArgumentException for a path that names no field
     */
    public Projection projection(List<String> keep) {
        Schema reader = Projections.keep(schema, keep);
        GenericData model = new GenericData(type.getClassLoader());
        // The contracts' only logical type: timestamps read as Instants, as in the generated classes.
        model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        Map<Long, DatumReader<GenericRecord>> byFingerprint = new HashMap<>();
        for (Schema writer : writers()) {
            byFingerprint.put(
                    SchemaNormalization.parsingFingerprint64(writer), new GenericDatumReader<>(writer, reader, model));
        }
        return new Projection(Map.copyOf(byFingerprint), schema.getName(), reader);
    }

    /** Decodes bytes written with any released version into the projection's reader schema. */
    public static final class Projection {

        private final Map<Long, DatumReader<GenericRecord>> readers;
        private final String name;
        private final Schema schema;

        private Projection(Map<Long, DatumReader<GenericRecord>> readers, String name, Schema schema) {
            this.readers = readers;
            this.name = name;
            this.schema = schema;
        }

        /** The pruned reader schema every decoded record has, whichever released schema wrote it. */
        public Schema schema() {
            return schema;
        }

        /** As {@link EventCodec#decode(byte[])}, with the same typed errors. */
        public GenericRecord decode(byte[] bytes) {
            return EventCodec.decode(bytes, readers, name, false);
        }
    }

    /**
     * Single-object decoding straight from the array: a buffered decoder over the bytes, reused per thread (Avro's
     * own message decoder reads through a stream one byte at a time).
     */
    private static <D> D decode(byte[] bytes, Map<Long, DatumReader<D>> readers, String name, boolean whole) {
        if (bytes == null) {
            throw new EventDecodingException(DeadLetterReason.MALFORMED, "record has no value", null);
        }
        if (bytes.length < HEADER_BYTES || bytes[0] != (byte) 0xC3 || bytes[1] != (byte) 0x01) {
            throw new EventDecodingException(
                    DeadLetterReason.MALFORMED,
                    "not Avro single-object encoding: the record does not start with C3 01 and a schema fingerprint",
                    null);
        }
        long fingerprint = 0;
        for (int i = HEADER_BYTES - 1; i >= 2; i--) {
            fingerprint = (fingerprint << 8) | (bytes[i] & 0xFF);
        }
        DatumReader<D> reader = readers.get(fingerprint);
        if (reader == null) {
            throw new EventDecodingException(
                    DeadLetterReason.UNKNOWN_SCHEMA,
                    "no released " + name + " schema has the record's fingerprint "
                            + String.format("%016x", fingerprint),
                    null);
        }
        try {
            BinaryDecoder decoder = DecoderFactory.get()
                    .binaryDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES, DECODERS.get());
            DECODERS.set(decoder);
            D record = reader.read(null, decoder);
            if (whole && !decoder.isEnd()) {
                throw new EventDecodingException(
                        DeadLetterReason.MALFORMED, "bytes follow the end of the " + name + " record", null);
            }
            return record;
        } catch (EventDecodingException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Untrusted bytes: whatever the decoder trips on (limits, bounds, bad unions) means MALFORMED.
            throw new EventDecodingException(
                    DeadLetterReason.MALFORMED, "body does not decode as " + name + ": " + e, e);
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
