package dev.vigil.devstack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Bearer tokens for vendor staff where there is no identity provider (benchmarks, service-to-service
 * calls in tests): an RSA key pair kept in a directory (made on first use, never committed), whose public half the
 * services verify with ({@code mp.jwt.verify.publickey.location}), and RS256 JWTs signed with its private half for
 * Vigil's issuer, a name and roles.
 */
public final class StaffTokens {

    /** The issuer Vigil's services expect by default. */
    public static final String ISSUER = "https://auth.vigil.dev";

    private final Path publicKey;
    private final PrivateKey privateKey;

    private StaffTokens(Path publicKey, PrivateKey privateKey) {
        this.publicKey = publicKey;
        this.privateKey = privateKey;
    }

    private static StaffTokens ephemeral;

    /** A key pair of this JVM's own, in a temporary directory removed at exit: for tests. */
    public static synchronized StaffTokens ephemeral() {
        if (ephemeral == null) {
            try {
                Path dir = Files.createTempDirectory("vigil-staff-jwt-");
                ephemeral = in(dir);
                for (Path file :
                        List.of(dir, dir.resolve("staff-jwt-public.pem"), dir.resolve("staff-jwt-private.pem"))) {
                    file.toFile().deleteOnExit();
                }
            } catch (IOException e) {
                throw new DevstackException("a temporary directory for test token keys: " + e.getMessage(), e);
            }
        }
        return ephemeral;
    }

    /** The key pair kept in {@code dir}, made there on first use. */
    public static StaffTokens in(Path dir) {
        try {
            Files.createDirectories(dir);
            Path publicPem = dir.resolve("staff-jwt-public.pem");
            Path privatePem = dir.resolve("staff-jwt-private.pem");
            KeyFactory rsa = KeyFactory.getInstance("RSA");
            if (!Files.exists(publicPem) || !Files.exists(privatePem)) {
                KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
                generator.initialize(2048);
                KeyPair pair = generator.generateKeyPair();
                Files.writeString(
                        privatePem, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
                Files.writeString(publicPem, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
            }
            PrivateKey key = rsa.generatePrivate(new PKCS8EncodedKeySpec(der(Files.readString(privatePem))));
            PublicKey check = rsa.generatePublic(new X509EncodedKeySpec(der(Files.readString(publicPem))));
            if (check == null) {
                throw new DevstackException("cannot read " + publicPem);
            }
            return new StaffTokens(publicPem, key);
        } catch (IOException | GeneralSecurityException e) {
            throw new DevstackException("staff token keys in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The PEM file of the public key, for {@code mp.jwt.verify.publickey.location}. */
    public Path publicKey() {
        return publicKey;
    }

    /** A JWT for {@code name} with {@code roles} (its {@code groups}), valid for {@code lifetime}. */
    public String token(String name, List<String> roles, Duration lifetime) {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        long now = Instant.now().getEpochSecond();
        String header = base64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String groups = roles.stream().map(r -> "\"" + r + "\"").collect(Collectors.joining(","));
        String claims = base64.encodeToString(("{\"iss\":\"" + ISSUER + "\",\"upn\":\"" + name + "\",\"groups\":["
                        + groups + "],\"iat\":" + now + ",\"exp\":" + (now + lifetime.toSeconds()) + "}")
                .getBytes(StandardCharsets.UTF_8));
        try {
            Signature signer = Signature.getInstance("SHA256withRSA");
            signer.initSign(privateKey);
            signer.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
            return header + "." + claims + "." + base64.encodeToString(signer.sign());
        } catch (GeneralSecurityException e) {
            throw new DevstackException("signing a token: " + e.getMessage(), e);
        }
    }

    private static byte[] der(String pem) {
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
