package dev.vigil.schemas;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/**
 * Single-object Avro decoding of every contract, under coverage-guided fuzzing: whatever the bytes, decoding returns a
 * record or refuses them with an {@link EventDecodingException} of a typed reason; any other exception, a hang or an
 * allocation the heap cannot hold fails the test. The first byte picks the contract, the rest is the record.
 *
 * <p>{@code mvn test} replays the committed seeds; the short fuzzing run of every build and the long one are in
 * {@code docs/reliability.md}.
 */
class EventCodecFuzzTest {

    private static final List<Class<? extends SpecificRecord>> CONTRACTS = TopicCatalog.contractTypes();

    @FuzzTest
    void decodesARecordOrRefusesItWithATypedReason(byte[] input) {
        if (input.length == 0) {
            return;
        }
        EventCodec<? extends SpecificRecord> codec = EventCodec.of(CONTRACTS.get((input[0] & 0xff) % CONTRACTS.size()));
        byte[] record = Arrays.copyOfRange(input, 1, input.length);
        try {
            codec.decode(record);
        } catch (EventDecodingException e) {
            if (e.reason() != DeadLetterReason.MALFORMED && e.reason() != DeadLetterReason.UNKNOWN_SCHEMA) {
                throw new AssertionError("refused with an unexpected reason " + e.reason(), e);
            }
        }
        try {
            codec.decodeWhole(record);
        } catch (EventDecodingException e) {
            // Typed, as above.
        }
    }
}
