package dev.vigil.agent.capture;

import dev.vigil.schemas.EvidenceEncryption;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Client-side AES-256-GCM for artifacts. The nonce is derived from the key and the plaintext's SHA-256, so the same
 * blob encrypts to the same bytes and content addressing still stores it once; a different blob never reuses a
 * nonce under the same key. Layout: {@code VGE1}, the 12-byte nonce, then the ciphertext with its 16-byte tag.
 */
public final class ConvergentEncryption {

    public static final String SCHEME = EvidenceEncryption.SCHEME;
    static final byte[] MAGIC = EvidenceEncryption.MAGIC;
    private static final int NONCE_BYTES = EvidenceEncryption.NONCE_BYTES;
    private static final int TAG_BITS = 128;

    private final SecretKeySpec key;
    private final String description;

    public ConvergentEncryption(byte[] key) {
        if (key.length != 32) {
            throw new IllegalArgumentException("an AES-256 key has 32 bytes, not " + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), "AES");
        this.description = EvidenceEncryption.describe(key);
    }

    /** What a manifest says of blobs this key seals: the scheme and the key's id ({@link EvidenceEncryption}). */
    public String description() {
        return description;
    }

    /** Encrypts {@code plain} into {@code sealed}, streaming. */
    public void encrypt(Path plain, Path sealed) throws IOException {
        try {
            byte[] nonce = nonce(sha256(plain));
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            try (InputStream in = Files.newInputStream(plain);
                    OutputStream out = Files.newOutputStream(sealed)) {
                out.write(MAGIC);
                out.write(nonce);
                byte[] buffer = new byte[1 << 16];
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    byte[] chunk = cipher.update(buffer, 0, n);
                    if (chunk != null) {
                        out.write(chunk);
                    }
                }
                out.write(cipher.doFinal());
            }
        } catch (GeneralSecurityException e) {
            throw new IOException("encrypting " + plain.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** Decrypts a sealed blob held in memory (vendor-side tooling and tests); a wrong key or any change fails. */
    public byte[] decrypt(byte[] sealed) throws GeneralSecurityException {
        if (sealed.length < MAGIC.length + NONCE_BYTES + TAG_BITS / 8
                || !Arrays.equals(Arrays.copyOf(sealed, MAGIC.length), MAGIC)) {
            throw new GeneralSecurityException("not a Vigil-encrypted artifact (no VGE1 header)");
        }
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(
                Cipher.DECRYPT_MODE,
                key,
                new GCMParameterSpec(TAG_BITS, Arrays.copyOfRange(sealed, MAGIC.length, MAGIC.length + NONCE_BYTES)));
        return cipher.doFinal(sealed, MAGIC.length + NONCE_BYTES, sealed.length - MAGIC.length - NONCE_BYTES);
    }

    private byte[] nonce(byte[] plaintextHash) throws GeneralSecurityException {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
        mac.update("vigil artifact nonce".getBytes(StandardCharsets.US_ASCII));
        return Arrays.copyOf(mac.doFinal(plaintextHash), NONCE_BYTES);
    }

    /** SHA-256 of a file, streaming. */
    public static byte[] sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
            return digest.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
