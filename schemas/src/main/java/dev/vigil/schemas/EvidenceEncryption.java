package dev.vigil.schemas;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.CipherInputStream;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The shared facts of client-side evidence encryption, between the agent that seals a blob and the vendor's services
 * that read it: AES-256-GCM, the layout {@code VGE1}, a 12-byte nonce, the ciphertext and its 16-byte tag; the
 * manifest's {@code encryption} names the scheme and the key's id ({@code AES-256-GCM/convergent/VGE1;key=<id>}), so a
 * reader holding several keys (rotation) knows which one sealed a blob.
 */
public final class EvidenceEncryption {

    public static final String SCHEME = "AES-256-GCM/convergent/VGE1";
    public static final byte[] MAGIC = "VGE1".getBytes(StandardCharsets.US_ASCII);
    public static final int NONCE_BYTES = 12;
    public static final int TAG_BYTES = 16;
    private static final String KEY_PARAMETER = ";key=";

    private EvidenceEncryption() {}

    /** A key's id: the first 8 bytes of its SHA-256, as hex. It names the key and reveals nothing of it. */
    public static String keyId(byte[] key) {
        try {
            return HexFormat.of()
                    .formatHex(
                            Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(key), 8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What a manifest says of a blob sealed with {@code key}. */
    public static String describe(byte[] key) {
        return SCHEME + KEY_PARAMETER + keyId(key);
    }

    /** The key id a manifest's {@code encryption} names, or null (no encryption, another scheme, or no id). */
    public static String keyIdOf(CharSequence encryption) {
        if (encryption == null) {
            return null;
        }
        String text = encryption.toString();
        if (!text.startsWith(SCHEME + KEY_PARAMETER)) {
            return null;
        }
        String id = text.substring(SCHEME.length() + KEY_PARAMETER.length());
        return id.matches("[0-9a-f]{16}") ? id : null;
    }

    /** Whether bytes start like a sealed blob. */
    public static boolean sealed(byte[] bytes) {
        return bytes.length >= MAGIC.length && Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
    }

    /**
     * The plaintext of the first bytes of a sealed blob. GCM encrypts with AES in counter mode from the nonce's second
     * counter block, so a head decrypts without the rest of the blob; it is not authenticated by the tag, which sits
     * at the blob's end, so callers use it only for blobs whose SHA-256 was verified against their manifest.
     *
     * @throws GeneralSecurityException when the bytes are not a sealed blob
     */
    public static byte[] decryptHead(byte[] key, byte[] sealedHead) throws GeneralSecurityException {
        if (!sealed(sealedHead) || sealedHead.length < MAGIC.length + NONCE_BYTES) {
            throw new GeneralSecurityException("not a Vigil-encrypted artifact (no VGE1 header)");
        }
        Cipher ctr = counterMode(key, sealedHead);
        return ctr.doFinal(sealedHead, MAGIC.length + NONCE_BYTES, sealedHead.length - MAGIC.length - NONCE_BYTES);
    }

    /**
     * The whole plaintext of a sealed blob of {@code sealedLength} bytes, decrypted as it is read (so a memory dump of
     * gigabytes is never held), without its tag. Like {@link #decryptHead} it does not check the tag: only for blobs
     * whose SHA-256 was verified against their manifest.
     *
     * @throws GeneralSecurityException when the stream does not start like a sealed blob or is too short for one
     * @throws IOException when the header cannot be read
     */
    public static InputStream decrypting(byte[] key, InputStream sealed, long sealedLength)
            throws GeneralSecurityException, IOException {
        long body = sealedLength - MAGIC.length - NONCE_BYTES - TAG_BYTES;
        byte[] header = sealed.readNBytes(MAGIC.length + NONCE_BYTES);
        if (body < 0 || header.length < MAGIC.length + NONCE_BYTES || !sealed(header)) {
            throw new GeneralSecurityException("not a Vigil-encrypted artifact (no VGE1 header, or shorter than one)");
        }
        return new CipherInputStream(new BoundedInputStream(sealed, body), counterMode(key, header));
    }

    /** AES in counter mode from the nonce's second counter block, where GCM starts encrypting. */
    private static Cipher counterMode(byte[] key, byte[] header) throws GeneralSecurityException {
        byte[] counter = new byte[16];
        System.arraycopy(header, MAGIC.length, counter, 0, NONCE_BYTES);
        counter[15] = 2;
        Cipher ctr = Cipher.getInstance("AES/CTR/NoPadding");
        ctr.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(counter));
        return ctr;
    }

    /** The first {@code remaining} bytes of a stream (the tag after them is left unread). */
    private static final class BoundedInputStream extends FilterInputStream {
        private long remaining;

        BoundedInputStream(InputStream in, long remaining) {
            super(in);
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(buffer, offset, (int) Math.min(length, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }
    }
}
