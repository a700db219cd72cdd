package dev.vigil.schemas.delivery;

import dev.vigil.schemas.CommandSignatures;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An Ed25519 signing key with its public half and id. Its text form is PEM: a {@code PRIVATE KEY} block (PKCS#8)
 * followed by a {@code PUBLIC KEY} block (X.509), as {@code vigil keys generate} writes it, so a service can name the
 * key it signs with without deriving the public key. Key text comes from the environment or a mounted secret.
 */
public record SigningKey(String keyId, PrivateKey privateKey, PublicKey publicKey) {

    private static final Pattern BLOCK =
            Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    /** A new random key. */
    public static SigningKey generate() {
        KeyPair pair = CommandSignatures.generateKeyPair();
        return new SigningKey(CommandSignatures.keyId(pair.getPublic()), pair.getPrivate(), pair.getPublic());
    }

    /**
     * Reads the PEM text form and checks that the two halves belong together.
     *
     * @throws IllegalArgumentException naming what is wrong, never echoing key material
     */
    public static SigningKey parse(String pem) {
        byte[] privateDer = null;
        byte[] publicDer = null;
        Matcher blocks = BLOCK.matcher(pem);
        while (blocks.find()) {
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(blocks.group(2));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("a " + blocks.group(1) + " block is not valid base64");
            }
            switch (blocks.group(1)) {
                case "PRIVATE KEY" -> privateDer = der;
                case "PUBLIC KEY" -> publicDer = der;
                default -> throw new IllegalArgumentException("unexpected PEM block " + blocks.group(1));
            }
        }
        if (privateDer == null || publicDer == null) {
            throw new IllegalArgumentException(
                    "a signing key needs a PRIVATE KEY and a PUBLIC KEY PEM block (vigil keys generate writes both)");
        }
        try {
            PrivateKey privateKey = CommandSignatures.privateKey(privateDer);
            PublicKey publicKey = CommandSignatures.publicKey(publicDer);
            byte[] probe = "vigil signing key check".getBytes(StandardCharsets.US_ASCII);
            if (!CommandSignatures.verify(probe, CommandSignatures.signBytes(probe, privateKey), publicKey)) {
                throw new IllegalArgumentException("the PUBLIC KEY block is not the public half of the PRIVATE KEY");
            }
            return new SigningKey(CommandSignatures.keyId(publicKey), privateKey, publicKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    "not an Ed25519 key pair: " + e.getClass().getSimpleName());
        }
    }

    /** The PEM text form {@link #parse} reads. */
    public String toPem() {
        return pem("PRIVATE KEY", privateKey.getEncoded()) + pem("PUBLIC KEY", publicKey.getEncoded());
    }

    /** The public half as a {@link VendorKey} for root metadata. */
    public VendorKey vendorKey() {
        return VendorKey.newBuilder()
                .setKeyId(keyId)
                .setScheme("ed25519")
                .setPublicKey(java.nio.ByteBuffer.wrap(publicKey.getEncoded()))
                .build();
    }

    @Override
    public String toString() {
        return "SigningKey[" + keyId + "]";
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
