package dev.vigil.schemas;

import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.common.Envelope;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.HexFormat;

/**
 * Vigil's one signing scheme: Ed25519 over exact bytes. Commands sign the single-object bytes of a {@link CommandBody},
 * carried in a {@link SignedCommand} with the signing key's id; delivery metadata signs the single-object bytes of
 * its documents the same way ({@code dev.vigil.schemas.delivery.MetadataSigning}). The vendor side signs with this
 * class; agents verify with it.
 */
public final class CommandSignatures {

    static final String ALGORITHM = "Ed25519";

    private CommandSignatures() {}

    public static SignedCommand sign(CommandBody body, String keyId, PrivateKey key, Envelope envelope)
            throws GeneralSecurityException {
        byte[] bytes = EventCodec.of(CommandBody.class).encode(body);
        return SignedCommand.newBuilder()
                .setEnvelope(envelope)
                .setKeyId(keyId)
                .setBody(ByteBuffer.wrap(bytes))
                .setSignature(ByteBuffer.wrap(signBytes(bytes, key)))
                .build();
    }

    /** The Ed25519 signature of exactly {@code bytes}. */
    public static byte[] signBytes(byte[] bytes, PrivateKey key) throws GeneralSecurityException {
        Signature signer = Signature.getInstance(ALGORITHM);
        signer.initSign(key);
        signer.update(bytes);
        return signer.sign();
    }

    /** A key's id: the lowercase hex SHA-256 of its X.509 encoding, the same wherever the key is seen. */
    public static String keyId(PublicKey key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** An Ed25519 private key from its PKCS#8 encoding. */
    public static PrivateKey privateKey(byte[] pkcs8) throws GeneralSecurityException {
        return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    }

    /** A fresh Ed25519 key pair. */
    public static KeyPair generateKeyPair() {
        try {
            return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Java 17 has Ed25519", e);
        }
    }

    /** True when {@code signature} is a valid Ed25519 signature of {@code body} by {@code key}. */
    public static boolean verify(byte[] body, byte[] signature, PublicKey key) {
        try {
            Signature verifier = Signature.getInstance(ALGORITHM);
            verifier.initVerify(key);
            verifier.update(body);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** An Ed25519 public key from its X.509 (SubjectPublicKeyInfo) encoding. */
    public static PublicKey publicKey(byte[] x509) throws GeneralSecurityException {
        return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(x509));
    }

    public static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
