package dev.vigil.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class EvidenceEncryptionTest {

    private static byte[] seal(byte[] key, byte[] nonce, byte[] plain) throws Exception {
        Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
        gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(EvidenceEncryption.MAGIC);
        out.write(nonce);
        out.write(gcm.doFinal(plain));
        return out.toByteArray();
    }

    @Test
    void theHeadOfABlobSealedWithGcmDecryptsToThePlaintextsHead() throws Exception {
        SecureRandom random = new SecureRandom();
        byte[] key = new byte[32];
        byte[] nonce = new byte[12];
        random.nextBytes(key);
        random.nextBytes(nonce);
        byte[] plain = new byte[100_000];
        random.nextBytes(plain);
        byte[] sealed = seal(key, nonce, plain);

        byte[] head = EvidenceEncryption.decryptHead(key, Arrays.copyOf(sealed, 4 + 12 + 5000));

        assertThat(head).isEqualTo(Arrays.copyOf(plain, 5000));
    }

    @Test
    void aWholeSealedBlobDecryptsAsItIsReadWithoutItsTag() throws Exception {
        SecureRandom random = new SecureRandom();
        byte[] key = new byte[32];
        byte[] nonce = new byte[12];
        random.nextBytes(key);
        random.nextBytes(nonce);
        for (int size : new int[] {0, 1, 15, 16, 17, 100_003}) {
            byte[] plain = new byte[size];
            random.nextBytes(plain);
            byte[] sealed = seal(key, nonce, plain);

            try (var in = EvidenceEncryption.decrypting(key, new ByteArrayInputStream(sealed), sealed.length)) {
                assertThat(in.readAllBytes()).as("%d bytes", size).isEqualTo(plain);
            }
        }
        // Too short to be sealed, or not sealed at all.
        assertThatThrownBy(() -> EvidenceEncryption.decrypting(key, new ByteArrayInputStream(new byte[20]), 20))
                .isInstanceOf(GeneralSecurityException.class);
        byte[] plain = "console text".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() ->
                        EvidenceEncryption.decrypting(key, new ByteArrayInputStream(Arrays.copyOf(plain, 64)), 64))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("VGE1");
    }

    @Test
    void theManifestNamesTheKeyAndOnlyAWellFormedIdIsRead() {
        byte[] key = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        String described = EvidenceEncryption.describe(key);
        assertThat(described).startsWith("AES-256-GCM/convergent/VGE1;key=");
        assertThat(EvidenceEncryption.keyIdOf(described))
                .isEqualTo(EvidenceEncryption.keyId(key))
                .hasSize(16);
        assertThat(EvidenceEncryption.keyIdOf(EvidenceEncryption.SCHEME)).isNull();
        assertThat(EvidenceEncryption.keyIdOf(EvidenceEncryption.SCHEME + ";key=../../etc"))
                .isNull();
        assertThat(EvidenceEncryption.keyIdOf(null)).isNull();
    }

    @Test
    void bytesThatAreNotSealedAreRefused() {
        assertThatThrownBy(() -> EvidenceEncryption.decryptHead(new byte[32], "plain text".getBytes()))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessageContaining("VGE1");
    }
}
