package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConvergentEncryptionTest {

    @TempDir
    Path dir;

    private final byte[] key = new Random(1)
            .ints(32, 0, 256)
            .collect(java.io.ByteArrayOutputStream::new, (o, b) -> o.write(b), (a, b) -> {})
            .toByteArray();

    @Test
    void sameBlobSameCiphertextDifferentBlobOrKeyDifferentCiphertext() throws Exception {
        byte[] plain = new byte[300_000];
        new Random(2).nextBytes(plain);
        Path a = Files.write(dir.resolve("a"), plain);
        Path b = Files.write(dir.resolve("b"), plain.clone());
        ConvergentEncryption crypto = new ConvergentEncryption(key);
        crypto.encrypt(a, dir.resolve("a.sealed"));
        crypto.encrypt(b, dir.resolve("b.sealed"));
        byte[] sealed = Files.readAllBytes(dir.resolve("a.sealed"));
        assertThat(sealed).isEqualTo(Files.readAllBytes(dir.resolve("b.sealed")));
        assertThat(new String(sealed, 0, 4)).isEqualTo("VGE1");
        assertThat(sealed.length).isEqualTo(plain.length + 4 + 12 + 16);
        assertThat(crypto.decrypt(sealed)).isEqualTo(plain);

        plain[0] ^= 1;
        crypto.encrypt(Files.write(dir.resolve("c"), plain), dir.resolve("c.sealed"));
        byte[] other = Files.readAllBytes(dir.resolve("c.sealed"));
        assertThat(java.util.Arrays.copyOfRange(other, 4, 16))
                .as("a different blob gets a different nonce")
                .isNotEqualTo(java.util.Arrays.copyOfRange(sealed, 4, 16));

        byte[] otherKey = key.clone();
        otherKey[0] ^= 1;
        new ConvergentEncryption(otherKey).encrypt(a, dir.resolve("k.sealed"));
        assertThat(Files.readAllBytes(dir.resolve("k.sealed"))).isNotEqualTo(sealed);
    }

    @Test
    void aChangedByteOrAWrongKeyIsRefused() throws Exception {
        Path a = Files.write(dir.resolve("a"), "console text".getBytes());
        ConvergentEncryption crypto = new ConvergentEncryption(key);
        crypto.encrypt(a, dir.resolve("a.sealed"));
        byte[] sealed = Files.readAllBytes(dir.resolve("a.sealed"));
        for (int i = 4; i < sealed.length; i++) {
            byte[] tampered = sealed.clone();
            tampered[i] ^= 0x40;
            assertThatThrownBy(() -> crypto.decrypt(tampered)).isInstanceOf(GeneralSecurityException.class);
        }
        byte[] otherKey = key.clone();
        otherKey[31] ^= 1;
        assertThatThrownBy(() -> new ConvergentEncryption(otherKey).decrypt(sealed))
                .isInstanceOf(GeneralSecurityException.class);
        assertThatThrownBy(() -> crypto.decrypt("PNG".getBytes()))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("VGE1");
    }
}
