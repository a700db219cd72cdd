package dev.vigil.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

class RecordSealsTest {

    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NEXT = "fedcba9876543210fedcba9876543210".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] VALUE = "a record's value".getBytes(StandardCharsets.UTF_8);

    private final RecordSeals.Verifier verifier = new RecordSeals.Verifier(Map.of(1, SECRET));

    @Test
    void aRecordSealedByItsHostPasses() {
        assertThat(verifier.problem("acme", "host-1", sealed("acme", "host-1", 1, SECRET, VALUE), VALUE))
                .isNull();
    }

    @Test
    void aHostCannotWriteAsAnotherHostOrTenant() {
        RecordSeals.Seal seal = sealed("acme", "host-1", 1, SECRET, VALUE);
        assertThat(verifier.problem("acme", "host-2", seal, VALUE))
                .isEqualTo("the record's seal is not that of host host-2 of tenant acme: a host may only write as"
                        + " itself");
        assertThat(verifier.problem("globex", "host-1", seal, VALUE)).contains("tenant globex");
    }

    @Test
    void aChangedValueBreaksTheSeal() {
        RecordSeals.Seal seal = sealed("acme", "host-1", 1, SECRET, VALUE);
        byte[] changed = Arrays.copyOf(VALUE, VALUE.length);
        changed[0] ^= 1;
        assertThat(verifier.problem("acme", "host-1", seal, changed)).contains("not that of host host-1");
    }

    @Test
    void anUnsealedRecordIsToldToEnrol() {
        assertThat(verifier.problem("acme", "host-1", RecordSeals.Seal.NONE, VALUE))
                .contains("not sealed")
                .contains("enrol this host");
        assertThat(verifier.problem("acme", "host-1", RecordSeals.Seal.of(new RecordHeaders()), VALUE))
                .contains("not sealed");
    }

    @Test
    void onlyTheAcceptedEpochsVerify() {
        RecordSeals.Verifier rotated = new RecordSeals.Verifier(Map.of(2, NEXT, 1, SECRET));
        assertThat(rotated.problem("acme", "h", sealed("acme", "h", 1, SECRET, VALUE), VALUE))
                .isNull();
        assertThat(rotated.problem("acme", "h", sealed("acme", "h", 2, NEXT, VALUE), VALUE))
                .isNull();
        RecordSeals.Verifier current = new RecordSeals.Verifier(Map.of(2, NEXT));
        assertThat(current.problem("acme", "h", sealed("acme", "h", 1, SECRET, VALUE), VALUE))
                .isEqualTo("the record is sealed with a key of epoch '1'; this deployment accepts epochs [2]:"
                        + " enrol this host again for a current key");
        RecordSeals.Seal hostile =
                new RecordSeals.Seal("1\u0000<script>".getBytes(StandardCharsets.UTF_8), new byte[32]);
        assertThat(current.problem("acme", "h", hostile, VALUE)).contains("epoch '1??script?'");
    }

    @Test
    void aKeyOfAnotherSecretDoesNotVerify() {
        assertThat(verifier.problem("acme", "h", sealed("acme", "h", 1, NEXT, VALUE), VALUE))
                .contains("not that of host h");
    }

    @Test
    void derivationSeparatesTenantFromHost() {
        assertThat(RecordSeals.hostKey(SECRET, 1, "ab", "c").key())
                .isNotEqualTo(RecordSeals.hostKey(SECRET, 1, "a", "bc").key());
        assertThat(RecordSeals.hostKey(SECRET, 1, "a", "b").key())
                .isNotEqualTo(RecordSeals.hostKey(SECRET, 2, "a", "b").key())
                .isEqualTo(RecordSeals.hostKey(SECRET, 1, "a", "b").key());
    }

    @Test
    void aHostKeyRoundTripsThroughItsFile() {
        RecordSeals.HostKey key = RecordSeals.hostKey(SECRET, 3, "acme", "host-1");
        RecordSeals.HostKey read = RecordSeals.HostKey.fromProperties(key.toProperties());
        assertThat(read.tenant()).isEqualTo("acme");
        assertThat(read.hostId()).isEqualTo("host-1");
        assertThat(read.epoch()).isEqualTo(3);
        assertThat(read.key()).isEqualTo(key.key());
        assertThat(key.toString()).doesNotContain(java.util.Base64.getEncoder().encodeToString(key.key()));
    }

    @Test
    void shortSecretsAreRefused() {
        assertThatThrownBy(() -> new RecordSeals.Verifier(Map.of(1, new byte[16])))
                .hasMessageContaining("at least 32");
        assertThatThrownBy(() -> RecordSeals.hostKey(new byte[8], 1, "a", "b")).hasMessageContaining("at least 32");
    }

    private static RecordSeals.Seal sealed(String tenant, String host, int epoch, byte[] secret, byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        RecordSeals.seal(RecordSeals.hostKey(secret, epoch, tenant, host), value, headers);
        return RecordSeals.Seal.of(headers);
    }
}
