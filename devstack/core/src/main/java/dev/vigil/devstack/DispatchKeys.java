package dev.vigil.devstack;

import dev.vigil.schemas.delivery.SigningKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Dispatch's signing keys, one per role, made under a directory on first use and kept there (the repository's root
 * names the keys, so they must outlive a restart of dispatch), and the configuration that runs dispatch with them.
 */
public final class DispatchKeys {

    /** The roles dispatch signs with. */
    public static final List<String> ROLES =
            List.of("root", "targets", "snapshot", "timestamp", "commands", "licenses");

    private final Path dir;
    private final SigningKey commands;

    private DispatchKeys(Path dir, SigningKey commands) {
        this.dir = dir;
        this.commands = commands;
    }

    /** The keys under {@code dir}, each made when absent (owner-only files). */
    public static DispatchKeys under(Path dir) {
        try {
            Files.createDirectories(dir);
            SigningKey commands = null;
            for (String role : ROLES) {
                Path file = dir.resolve(role + ".pem");
                if (!Files.exists(file)) {
                    Files.writeString(file, SigningKey.generate().toPem());
                    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                }
                if (role.equals("commands")) {
                    commands = SigningKey.parse(Files.readString(file));
                }
            }
            return new DispatchKeys(dir, commands);
        } catch (IOException e) {
            throw new UncheckedIOException("preparing dispatch's keys under " + dir, e);
        }
    }

    /**
     * Dispatch's configuration: its keys, the identity provider it trusts, ingestion's inventory, its own address, and
     * crash triage for its rollouts' release health, and its client-credential client for calling both.
     */
    public Map<String, String> config(
            IdentityProvider identity, String ingestionUrl, String publicUrl, String triageUrl) {
        Map<String, String> config = new LinkedHashMap<>();
        for (String role : ROLES) {
            config.put("vigil.dispatch.keys." + role, "file:" + dir.resolve(role + ".pem"));
        }
        config.putAll(identity.verification());
        config.put("vigil.dispatch.ingestion-url", ingestionUrl);
        config.put("vigil.dispatch.enrolment.public-url", publicUrl);
        config.put("vigil.dispatch.rollouts.triage-url", triageUrl);
        config.putAll(identity.serviceClient(IdentityProvider.DISPATCH_CLIENT));
        return config;
    }

    /** What an agent pins to take dispatch's commands ({@code VIGIL_AGENT_VENDOR_KEYS}). */
    public String agentVendorKeys() {
        return commands.keyId() + "="
                + Base64.getEncoder().encodeToString(commands.publicKey().getEncoded());
    }
}
