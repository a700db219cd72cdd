package dev.vigil.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keeps every contract backward compatible: the schema this build writes must read data written with every
 * released version. Release a changed schema with
 * {@code ./mvnw -pl schemas test -Dtest=SchemaCompatibilityContractTest -Dvigil.schemas.release=true}.
 */
class SchemaCompatibilityContractTest {

    static List<Class<? extends SpecificRecord>> contracts() {
        return TopicCatalog.contractTypes();
    }

    @ParameterizedTest
    @MethodSource("contracts")
    void everyContractHasAReleasedVersion(Class<? extends SpecificRecord> type) {
        assertThat(EventCodec.of(type).released())
                .as("released versions of %s (run the release command in this class's Javadoc)", type.getName())
                .isNotEmpty();
    }

    @ParameterizedTest
    @MethodSource("contracts")
    void currentSchemaReadsEveryReleasedVersion(Class<? extends SpecificRecord> type) {
        EventCodec<?> codec = EventCodec.of(type);
        for (int v = 1; v <= codec.released().size(); v++) {
            assertThat(incompatibilities(codec.schema(), codec.released().get(v - 1)))
                    .as("%s cannot read data written with released v%d", type.getSimpleName(), v)
                    .isEmpty();
        }
    }

    @Test
    void detectsARequiredFieldAddedWithoutDefault() {
        Schema released = EventCodec.of(dev.vigil.schemas.agent.UserFeedback.class)
                .released()
                .get(0);
        String json = released.toString()
                .replaceFirst("\"fields\":\\[", "\"fields\":[{\"name\":\"mood\",\"type\":\"string\"},");
        Schema broken = new Schema.Parser().parse(json);

        assertThat(incompatibilities(broken, released))
                .anySatisfy(m -> assertThat(m).contains("mood"));
    }

    @Test
    void detectsAnEnumSymbolRemovedWithoutDefault() {
        Schema writer = Schema.createEnum("E", null, "t", List.of("A", "B"));
        Schema reader = Schema.createEnum("E", null, "t", List.of("A"));

        assertThat(incompatibilities(reader, writer)).isNotEmpty();
    }

    @Test
    @EnabledIfSystemProperty(named = "vigil.schemas.release", matches = "true")
    void releaseChangedSchemas() throws IOException {
        Path root = Path.of("src/main/resources").resolve(EventCodec.RELEASED_ROOT);
        for (Class<? extends SpecificRecord> type : contracts()) {
            EventCodec<?> codec = EventCodec.of(type);
            long current = SchemaNormalization.parsingFingerprint64(codec.schema());
            boolean known =
                    codec.released().stream().anyMatch(s -> SchemaNormalization.parsingFingerprint64(s) == current);
            if (!known) {
                Path file = root.resolve(codec.schema().getFullName())
                        .resolve("v" + (codec.released().size() + 1) + ".avsc");
                Files.createDirectories(file.getParent());
                Files.writeString(file, codec.schema().toString(true) + "\n");
            }
        }
    }

    private static List<String> incompatibilities(Schema reader, Schema writer) {
        var result = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
        if (result.getType() == SchemaCompatibilityType.COMPATIBLE) {
            return List.of();
        }
        return result.getResult().getIncompatibilities().stream()
                .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
                .collect(Collectors.toList());
    }
}
