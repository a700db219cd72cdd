package dev.vigil.schemas;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificRecord;

/**
 * Writes the seed corpus of {@link EventCodecFuzzTest}: one record of every contract, every field filled with a
 * small value of its type, so the fuzzer starts past the single-object header and into each record's body. Run once
 * when a contract is added: {@code java -cp <test classpath> dev.vigil.schemas.FuzzSeeds <directory>}.
 */
public final class FuzzSeeds {

    private FuzzSeeds() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        List<Class<? extends SpecificRecord>> contracts = TopicCatalog.contractTypes();
        for (int i = 0; i < contracts.size(); i++) {
            Schema schema = EventCodec.of(contracts.get(i)).schema();
            byte[] record = new BinaryMessageEncoder<GenericData.Record>(GenericData.get(), schema)
                    .encode((GenericData.Record) sample(schema))
                    .array();
            byte[] seed = new byte[record.length + 1];
            seed[0] = (byte) i;
            System.arraycopy(record, 0, seed, 1, record.length);
            Files.write(dir.resolve(schema.getName()), seed);
        }
    }

    /** A small value of {@code schema}'s type. */
    static Object sample(Schema schema) {
        return switch (schema.getType()) {
            case RECORD -> {
                GenericData.Record record = new GenericData.Record(schema);
                for (Schema.Field field : schema.getFields()) {
                    record.put(field.pos(), sample(field.schema()));
                }
                yield record;
            }
            case UNION ->
                sample(schema.getTypes().stream()
                        .filter(s -> s.getType() != Schema.Type.NULL)
                        .findFirst()
                        .orElse(schema.getTypes().get(0)));
            case ARRAY -> {
                List<Object> items = new ArrayList<>();
                items.add(sample(schema.getElementType()));
                yield new GenericData.Array<>(schema, items);
            }
            case MAP -> Map.of("k", sample(schema.getValueType()));
            case ENUM ->
                new GenericData.EnumSymbol(schema, schema.getEnumSymbols().get(0));
            case FIXED -> new GenericData.Fixed(schema, new byte[schema.getFixedSize()]);
            case STRING -> "x";
            case BYTES -> ByteBuffer.wrap(new byte[] {1, 2, 3});
            case INT -> 1;
            case LONG -> 1_700_000_000_000L;
            case FLOAT -> 1.0f;
            case DOUBLE -> 1.0;
            case BOOLEAN -> true;
            case NULL -> null;
        };
    }
}
