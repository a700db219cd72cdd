package dev.vigil.triage.bucket;

import dev.vigil.schemas.EvidenceEncryption;
import dev.vigil.triage.config.TriageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The evidence keys triage holds ({@code vigil.triage.evidence-keys}), by the id a manifest names. Several keys are
 * rotation: agents seal with the newest, and evidence sealed with an older one stays readable while it is listed.
 */
@ApplicationScoped
public class EvidenceKeys {

    private final Map<String, byte[]> byId = new HashMap<>();

    @Inject
    EvidenceKeys(TriageConfig config) {
        this(config.triage().evidenceKeys().orElse(List.of()));
    }

    /** Keys as base64 text. */
    public EvidenceKeys(List<String> keys) {
        for (String text : keys) {
            if (text.isBlank()) {
                continue;
            }
            byte[] key;
            try {
                key = Base64.getDecoder().decode(text.trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("vigil.triage.evidence-keys: a key is not base64");
            }
            if (key.length != 32) {
                throw new IllegalArgumentException(
                        "vigil.triage.evidence-keys: an AES-256 key has 32 bytes, not " + key.length);
            }
            byId.put(EvidenceEncryption.keyId(key), key);
        }
    }

    /** The key with this id, if triage holds it. */
    public Optional<byte[]> byId(String id) {
        return Optional.ofNullable(id == null ? null : byId.get(id));
    }
}
