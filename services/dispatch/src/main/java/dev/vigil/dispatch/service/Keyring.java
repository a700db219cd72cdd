package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.schemas.delivery.Role;
import dev.vigil.schemas.delivery.RoleKeys;
import dev.vigil.schemas.delivery.RootMetadata;
import dev.vigil.schemas.delivery.SigningKey;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The private signing keys dispatch holds, read once at start from the configuration (the environment or a mounted
 * Secret). Which key signs for which role is the current root's call; this only says which of those keys are here.
 */
@ApplicationScoped
public class Keyring {

    private final Map<String, SigningKey> byId = new LinkedHashMap<>();
    private final Map<Role, List<SigningKey>> configured = new EnumMap<>(Role.class);

    Keyring(DispatchConfig config) {
        DispatchConfig.Keys keys = config.dispatch().keys();
        load(Role.ROOT, "root", keys.root());
        load(Role.TARGETS, "targets", keys.targets());
        load(Role.SNAPSHOT, "snapshot", keys.snapshot());
        load(Role.TIMESTAMP, "timestamp", keys.timestamp());
        load(Role.COMMANDS, "commands", keys.commands());
        load(Role.LICENSES, "licenses", keys.licenses());
    }

    /** The keys configured for a role: what the first root gives it. */
    List<SigningKey> configured(Role role) {
        return configured.getOrDefault(role, List.of());
    }

    /** Every key held, whatever role it was configured for. */
    List<SigningKey> all() {
        return List.copyOf(byId.values());
    }

    /** A held key by id, or null. */
    SigningKey byId(String keyId) {
        return byId.get(keyId);
    }

    /**
     * The held keys {@code root} gives {@code role}, at least its threshold of them.
     *
     * @throws MissingKeysException when fewer are held than the role needs
     */
    List<SigningKey> signers(RootMetadata root, Role role) {
        RoleKeys roleKeys = root.getRoles().stream()
                .filter(r -> r.getRole() == role)
                .findFirst()
                .orElseThrow(
                        () -> new MissingKeysException("root v" + root.getVersion() + " names no " + role + " keys"));
        List<SigningKey> held = new ArrayList<>();
        for (String id : roleKeys.getKeyIds()) {
            SigningKey key = byId.get(id);
            if (key != null) {
                held.add(key);
            }
        }
        if (held.size() < roleKeys.getThreshold()) {
            throw new MissingKeysException("dispatch holds " + held.size() + " of the " + roleKeys.getThreshold() + " "
                    + role + " keys root v" + root.getVersion() + " requires (" + roleKeys.getKeyIds()
                    + "): configure them in vigil.dispatch.keys." + role.name().toLowerCase(java.util.Locale.ROOT));
        }
        return held;
    }

    private void load(Role role, String name, List<String> values) {
        List<SigningKey> keys = new ArrayList<>();
        for (String value : values) {
            if (value.isBlank()) {
                continue;
            }
            SigningKey key;
            try {
                key = SigningKey.parse(text(value.strip()));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("vigil.dispatch.keys." + name + ": " + e.getMessage(), e);
            }
            keys.add(key);
            byId.put(key.keyId(), key);
        }
        if (keys.isEmpty()) {
            throw new IllegalStateException("vigil.dispatch.keys." + name + " names no key: set VIGIL_DISPATCH_KEYS_"
                    + name.toUpperCase(java.util.Locale.ROOT) + " to PEM text or file:PATH (vigil keys generate)");
        }
        configured.put(role, List.copyOf(keys));
    }

    private static String text(String value) {
        if (!value.startsWith("file:")) {
            return value;
        }
        Path path = Path.of(value.substring("file:".length()));
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the signing key file " + path + ": " + e.getMessage(), e);
        }
    }
}
