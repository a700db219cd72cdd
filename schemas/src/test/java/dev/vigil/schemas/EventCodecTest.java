package dev.vigil.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.LifecycleState;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.data.TimeConversions;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

class EventCodecTest {

    private final EventCodec<AgentEvent> codec = EventCodec.of(AgentEvent.class);

    @Test
    void roundTripsAnEventInSingleObjectEncoding() {
        AgentEvent event = AgentEvents.lifecycle(LifecycleState.STARTED, "BOOTED");

        byte[] bytes = codec.encode(event);

        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        assertThat(Arrays.copyOfRange(bytes, 2, 10))
                .isEqualTo(littleEndian(SchemaNormalization.parsingFingerprint64(codec.schema())));
        assertThat(codec.decode(bytes)).isEqualTo(event);
    }

    @Test
    void stampsTheReleasedVersionIntoTheEnvelope() {
        AgentEvent event = AgentEvents.lifecycle(LifecycleState.STARTED, "BOOTED");

        assertThat(event.getEnvelope().getSchemaVersion())
                .isEqualTo(codec.released().size());
        assertThat(event.getEnvelope().getEventType()).isEqualTo("dev.vigil.agent.lifecycle");
    }

    @Test
    void decodesBytesWrittenWithTheReleasedSchemaByAnotherWriter() throws Exception {
        Schema v1 = codec.released().get(0);
        GenericData model = new GenericData();
        model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        GenericRecord generic = (GenericRecord)
                model.deepCopy(codec.schema(), AgentEvents.lifecycle(LifecycleState.SUSPENDED, "WATCHDOG"));
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(model, v1)
                .encode(generic)
                .array();

        AgentEvent decoded = codec.decode(bytes);

        assertThat(decoded.getVm().getName()).isEqualTo("web-1");
        assertThat(((dev.vigil.schemas.agent.Lifecycle) decoded.getPayload()).getReason())
                .isEqualTo("WATCHDOG");
    }

    @Test
    void rejectsAnUnknownFingerprintAsUnknownSchema() throws Exception {
        Schema other = new Schema.Parser()
                .parse("{\"type\":\"record\",\"name\":\"Rogue\",\"fields\":[{\"name\":\"x\",\"type\":\"string\"}]}");
        GenericRecord rogue = new GenericData.Record(other);
        rogue.put("x", "hello");
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), other)
                .encode(rogue)
                .array();

        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOfSatisfying(
                        EventDecodingException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.UNKNOWN_SCHEMA));
    }

    @Test
    void rejectsPlainJsonAsMalformed() {
        byte[] json = "{\"eventId\":\"1\"}".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> codec.decode(json))
                .isInstanceOfSatisfying(
                        EventDecodingException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.MALFORMED));
    }

    @Test
    void rejectsATruncatedBodyAsMalformed() {
        byte[] bytes = codec.encode(AgentEvents.lifecycle(LifecycleState.STARTED, "BOOTED"));

        assertThatThrownBy(() -> codec.decode(Arrays.copyOf(bytes, 30)))
                .isInstanceOfSatisfying(
                        EventDecodingException.class,
                        e -> assertThat(e.reason()).isEqualTo(DeadLetterReason.MALFORMED));
    }

    /** Property: whatever bytes arrive, decoding returns an event or a typed error, nothing else. */
    @Test
    void hostileBytesOnlyEverFailWithATypedReason() {
        byte[] valid = codec.encode(AgentEvents.lifecycle(LifecycleState.CRASHED, "PANICKED"));
        Random random = new Random(20261124L);
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] input = mutate(valid, random);
            try {
                codec.decode(input);
                decoded++;
            } catch (EventDecodingException e) {
                assertThat(e.reason()).isIn(DeadLetterReason.MALFORMED, DeadLetterReason.UNKNOWN_SCHEMA);
                rejected++;
            }
        }
        assertThat(decoded + rejected).isEqualTo(20_000);
        assertThat(rejected).isPositive();
    }

    @Test
    void aProjectionReadsOnlyTheFieldsItKeepsFromEveryReleasedVersion() throws Exception {
        EventCodec.Projection projection =
                codec.projection(List.of("envelope.eventId", "envelope.occurredAt", "vm.name"));
        AgentEvent event = AgentEvents.lifecycle(LifecycleState.CRASHED, "PANICKED");
        GenericData model = new GenericData();
        model.addLogicalTypeConversion(new TimeConversions.TimestampMillisConversion());
        byte[] writtenByV1 = new BinaryMessageEncoder<GenericRecord>(
                        model, codec.released().get(0))
                .encode((GenericRecord) model.deepCopy(codec.schema(), event))
                .array();

        for (byte[] bytes : List.of(codec.encode(event), writtenByV1)) {
            GenericRecord read = projection.decode(bytes);

            assertThat(read.getSchema().getFields())
                    .extracting(Schema.Field::name)
                    .containsExactly("envelope", "vm");
            GenericRecord envelope = (GenericRecord) read.get("envelope");
            assertThat(envelope.getSchema().getFields())
                    .extracting(Schema.Field::name)
                    .containsExactly("eventId", "occurredAt");
            assertThat(envelope.get("eventId").toString())
                    .isEqualTo(event.getEnvelope().getEventId());
            assertThat(envelope.get("occurredAt")).isEqualTo(event.getEnvelope().getOccurredAt());
            assertThat(((GenericRecord) read.get("vm")).get("name").toString()).isEqualTo("web-1");
        }
    }

    @Test
    void aProjectionOfAFieldThatDoesNotExistIsRefusedWithItsName() {
        assertThatThrownBy(() -> codec.projection(List.of("envelope.nonsense")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'nonsense'");
        assertThatThrownBy(() -> codec.projection(List.of("envelope.eventId.deeper")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("eventId");
    }

    /** Property: a projection's decoder fails on hostile bytes only with a typed reason, as the full one does. */
    @Test
    void hostileBytesThroughAProjectionOnlyEverFailWithATypedReason() {
        EventCodec.Projection projection = codec.projection(List.of("envelope", "vm.uuid"));
        byte[] valid = codec.encode(AgentEvents.lifecycle(LifecycleState.CRASHED, "PANICKED"));
        Random random = new Random(20261125L);
        int rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            try {
                projection.decode(mutate(valid, random));
            } catch (EventDecodingException e) {
                assertThat(e.reason()).isIn(DeadLetterReason.MALFORMED, DeadLetterReason.UNKNOWN_SCHEMA);
                rejected++;
            }
        }
        assertThat(rejected).isPositive();
    }

    private static byte[] mutate(byte[] valid, Random random) {
        switch (random.nextInt(4)) {
            case 0: {
                byte[] copy = valid.clone();
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                    // Keep the header intact half the time so the body decoder is exercised too.
                    int from = random.nextBoolean() ? 10 : 0;
                    copy[from + random.nextInt(copy.length - from)] ^= (byte) (1 << random.nextInt(8));
                }
                return copy;
            }
            case 1:
                return Arrays.copyOf(valid, random.nextInt(valid.length));
            case 2: {
                byte[] copy = Arrays.copyOf(valid, valid.length + 1 + random.nextInt(64));
                for (int i = valid.length; i < copy.length; i++) {
                    copy[i] = (byte) random.nextInt(256);
                }
                // Huge varint lengths inside the body: the decoder must not allocate them.
                copy[10 + random.nextInt(valid.length - 10)] = (byte) 0xFF;
                return copy;
            }
            default: {
                byte[] noise = new byte[random.nextInt(200)];
                random.nextBytes(noise);
                if (noise.length > 10 && random.nextBoolean()) {
                    System.arraycopy(valid, 0, noise, 0, 10);
                }
                return noise;
            }
        }
    }

    private static byte[] littleEndian(long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        return bytes;
    }
}
