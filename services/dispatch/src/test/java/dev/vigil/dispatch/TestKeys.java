package dev.vigil.dispatch;

import dev.vigil.schemas.delivery.SigningKey;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Keys made at test time (no secret in the repository): a signing key per delivery role (two for targets, so a
 * rotation has somewhere to go), and an RSA pair whose public half verifies vendor staff's tokens and whose private
 * half tests sign them with.
 */
public final class TestKeys implements QuarkusTestResourceLifecycleManager {

    /** The second targets key: configured, but not the one the first root gives the role. */
    static SigningKey spareTargets;

    @Override
    public Map<String, String> start() {
        try {
            Map<String, String> config = new HashMap<>();
            for (String role : new String[] {"root", "snapshot", "timestamp", "commands", "licenses"}) {
                config.put("vigil.dispatch.keys." + role, SigningKey.generate().toPem());
            }
            Path dir = Files.createTempDirectory("vigil-dispatch-keys-");
            dir.toFile().deleteOnExit();
            SigningKey targets = SigningKey.generate();
            spareTargets = SigningKey.generate();
            Path spare = dir.resolve("spare-targets.pem");
            Files.writeString(spare, spareTargets.toPem());
            spare.toFile().deleteOnExit();
            // The spare is held (file: form) but only listed after the first key: the first root names both.
            config.put("vigil.dispatch.keys.targets", targets.toPem() + ",file:" + spare);

            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair pair = generator.generateKeyPair();
            Path publicKey = dir.resolve("jwt-public.pem");
            Path privateKey = dir.resolve("jwt-private.pem");
            Files.writeString(publicKey, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
            Files.writeString(privateKey, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
            publicKey.toFile().deleteOnExit();
            privateKey.toFile().deleteOnExit();
            config.put("mp.jwt.verify.publickey.location", publicKey.toUri().toString());
            config.put("smallrye.jwt.sign.key.location", privateKey.toUri().toString());
            return config;
        } catch (Exception e) {
            throw new IllegalStateException("making test keys: " + e.getMessage(), e);
        }
    }

    @Override
    public void stop() {}

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
