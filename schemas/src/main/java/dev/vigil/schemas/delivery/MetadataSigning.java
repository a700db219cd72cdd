package dev.vigil.schemas.delivery;

import dev.vigil.schemas.CommandSignatures;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;

/**
 * Signs delivery documents and checks their signatures against a root: Ed25519 over the document's exact
 * single-object bytes, as commands are signed ({@link CommandSignatures}), with one signature per key so a role can
 * require a threshold of keys. Documents hold no Avro maps, so the bytes of a document are the same wherever it is
 * encoded.
 */
public final class MetadataSigning {

    private MetadataSigning() {}

    /** {@code document} signed for {@code role} by every key in {@code keys}, as encoded bytes. */
    public static <T extends SpecificRecord> byte[] sign(T document, Role role, List<SigningKey> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no key to sign " + role + " metadata with");
        }
        @SuppressWarnings("unchecked")
        EventCodec<T> codec = (EventCodec<T>) EventCodec.of(document.getClass());
        byte[] body = codec.encode(document);
        List<MetadataSignature> signatures = new ArrayList<>();
        for (SigningKey key : keys.stream()
                .sorted(Comparator.comparing(SigningKey::keyId))
                .distinct()
                .toList()) {
            try {
                signatures.add(MetadataSignature.newBuilder()
                        .setKeyId(key.keyId())
                        .setSignature(ByteBuffer.wrap(CommandSignatures.signBytes(body, key.privateKey())))
                        .build());
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("signing with key " + key.keyId() + " failed", e);
            }
        }
        return EventCodec.of(SignedMetadata.class)
                .encode(SignedMetadata.newBuilder()
                        .setRole(role)
                        .setBody(ByteBuffer.wrap(body))
                        .setSignatures(signatures)
                        .build());
    }

    /** Decodes a signed document's envelope, or says it is malformed. */
    public static SignedMetadata decodeSigned(byte[] bytes) throws MetadataException {
        try {
            return EventCodec.of(SignedMetadata.class).decodeWhole(bytes);
        } catch (EventDecodingException e) {
            throw new MetadataException(MetadataProblem.MALFORMED, "not a signed Vigil document (" + e.reason() + ")");
        }
    }

    /**
     * Verifies that {@code bytes} are a {@code type} document signed for {@code role} by at least the threshold of
     * the role's keys in {@code root}, and returns it.
     */
    public static <T extends SpecificRecord> T verify(byte[] bytes, Role role, RootMetadata root, Class<T> type)
            throws MetadataException {
        SignedMetadata signed = decodeSigned(bytes);
        if (signed.getRole() != role) {
            throw new MetadataException(
                    MetadataProblem.WRONG_ROLE, "signed for role " + signed.getRole() + ", expected " + role);
        }
        byte[] body = CommandSignatures.bytes(signed.getBody());
        checkThreshold(signed, body, role, root);
        try {
            return EventCodec.of(type).decodeWhole(body);
        } catch (EventDecodingException e) {
            throw new MetadataException(
                    MetadataProblem.MALFORMED,
                    "the signed body is not a " + type.getSimpleName() + " (" + e.reason() + ")");
        }
    }

    /** A root document signed by a threshold of the root keys it names itself. */
    public static RootMetadata verifyRoot(byte[] bytes) throws MetadataException {
        SignedMetadata signed = decodeSigned(bytes);
        if (signed.getRole() != Role.ROOT) {
            throw new MetadataException(
                    MetadataProblem.WRONG_ROLE, "signed for role " + signed.getRole() + ", expected ROOT");
        }
        byte[] body = CommandSignatures.bytes(signed.getBody());
        RootMetadata root;
        try {
            root = EventCodec.of(RootMetadata.class).decodeWhole(body);
        } catch (EventDecodingException e) {
            throw new MetadataException(MetadataProblem.MALFORMED, "the signed body is not a RootMetadata");
        }
        checkThreshold(signed, body, Role.ROOT, root);
        return root;
    }

    /** Throws unless at least the threshold of {@code role}'s keys in {@code root} signed {@code body}. */
    static void checkThreshold(SignedMetadata signed, byte[] body, Role role, RootMetadata root)
            throws MetadataException {
        if (signed.getSignatures().isEmpty()) {
            throw new MetadataException(MetadataProblem.UNSIGNED, role + " metadata carries no signature");
        }
        RoleKeys roleKeys = root.getRoles().stream()
                .filter(r -> r.getRole() == role)
                .findFirst()
                .orElseThrow(() -> new MetadataException(
                        MetadataProblem.UNKNOWN_KEY,
                        "root v" + root.getVersion() + " gives role " + role + " no keys"));
        Set<String> valid = new HashSet<>();
        boolean known = false;
        for (MetadataSignature signature : signed.getSignatures()) {
            if (!roleKeys.getKeyIds().contains(signature.getKeyId())) {
                continue;
            }
            PublicKey key = publicKey(root, signature.getKeyId());
            if (key == null) {
                continue;
            }
            known = true;
            if (!CommandSignatures.verify(body, CommandSignatures.bytes(signature.getSignature()), key)) {
                throw new MetadataException(
                        MetadataProblem.BAD_SIGNATURE,
                        role + " signature by key " + signature.getKeyId() + " does not match the document");
            }
            valid.add(signature.getKeyId());
        }
        if (!known) {
            throw new MetadataException(
                    MetadataProblem.UNKNOWN_KEY, "no signature is by a " + role + " key of root v" + root.getVersion());
        }
        if (valid.size() < roleKeys.getThreshold()) {
            throw new MetadataException(
                    MetadataProblem.THRESHOLD_NOT_MET,
                    role + " needs " + roleKeys.getThreshold() + " keys, " + valid.size() + " signed");
        }
    }

    /** Lowercase hex SHA-256 of {@code bytes}. */
    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** The {@link MetaFile} that pins a signed document. */
    public static MetaFile metaFile(String name, long version, byte[] signedBytes) {
        return MetaFile.newBuilder()
                .setName(name)
                .setVersion(version)
                .setLength(signedBytes.length)
                .setSha256(sha256(signedBytes))
                .build();
    }

    private static PublicKey publicKey(RootMetadata root, String keyId) {
        for (VendorKey key : root.getKeys()) {
            if (key.getKeyId().equals(keyId) && "ed25519".equals(key.getScheme())) {
                try {
                    PublicKey publicKey = CommandSignatures.publicKey(CommandSignatures.bytes(key.getPublicKey()));
                    // A root that names a key by another key's id would let one key count twice.
                    return CommandSignatures.keyId(publicKey).equals(keyId) ? publicKey : null;
                } catch (GeneralSecurityException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
