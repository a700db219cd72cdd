package dev.vigil.schemas;

import dev.vigil.schemas.agent.CommandBody;
import dev.vigil.schemas.agent.SignedCommand;
import dev.vigil.schemas.common.Envelope;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;

/**
 * The command signing format: Ed25519 over the exact single-object bytes of a {@link CommandBody}, carried in a
 * {@link SignedCommand} with the signing key's id. The vendor side signs with this class; agents verify with it.
 */
public final class CommandSignatures {

    static final String ALGORITHM = "Ed25519";

    private CommandSignatures() {}

    public static SignedCommand sign(CommandBody body, String keyId, PrivateKey key, Envelope envelope)
            throws GeneralSecurityException {
        byte[] bytes = EventCodec.of(CommandBody.class).encode(body);
        Signature signer = Signature.getInstance(ALGORITHM);
        signer.initSign(key);
        signer.update(bytes);
        return SignedCommand.newBuilder()
                .setEnvelope(envelope)
                .setKeyId(keyId)
                .setBody(ByteBuffer.wrap(bytes))
                .setSignature(ByteBuffer.wrap(signer.sign()))
                .build();
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
