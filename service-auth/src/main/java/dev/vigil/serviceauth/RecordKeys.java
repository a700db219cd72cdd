package dev.vigil.serviceauth;

import dev.vigil.schemas.RecordSeals;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The deployment's record keys (ADR 0007): dispatch issues each enrolling host the key derived from the current
 * epoch's secret, and ingestion checks every agent record's seal against the current and the previous epoch. The
 * secrets come from the environment or a Secret ({@code VIGIL_IDENTITY_RECORD_KEY_SECRET}, base64, at least 32
 * bytes); nothing has a default.
 */
@ApplicationScoped
public class RecordKeys {

    static final String SECRET = "vigil.identity.record-key.secret";
    static final String PREVIOUS = "vigil.identity.record-key.previous-secret";

    private final Optional<String> secret;
    private final int epoch;
    private final Optional<String> previousSecret;

    RecordKeys(IdentityConfig config) {
        this.secret = config.recordKey().secret().filter(s -> !s.isBlank());
        this.epoch = config.recordKey().epoch();
        this.previousSecret = config.recordKey().previousSecret().filter(s -> !s.isBlank());
    }

    /** The key a host of a tenant gets at enrolment: the current epoch's. */
    public RecordSeals.HostKey issue(String tenant, String hostId) {
        return RecordSeals.hostKey(decode(SECRET, required()), epoch, tenant, hostId);
    }

    /** A verifier for the current epoch and, while hosts renew, the previous one. */
    public RecordSeals.Verifier verifier() {
        Map<Integer, byte[]> secrets = new LinkedHashMap<>();
        secrets.put(epoch, decode(SECRET, required()));
        previousSecret.ifPresent(p -> secrets.put(epoch - 1, decode(PREVIOUS, p)));
        return new RecordSeals.Verifier(secrets);
    }

    /** Checks now that the secrets are configured and usable; throws {@link IllegalStateException} saying how not. */
    public void requireUsable() {
        verifier();
    }

    /** The epoch keys are issued in. */
    public int epoch() {
        return epoch;
    }

    private String required() {
        return secret.orElseThrow(() -> new IllegalStateException("no record-key secret is configured: set "
                + "VIGIL_IDENTITY_RECORD_KEY_SECRET (" + SECRET + ") to at least 32 random bytes in base64, the same "
                + "for dispatch, which issues hosts their keys, and ingestion, which checks them"));
    }

    private static byte[] decode(String property, String base64) {
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(property + " is not base64");
        }
        if (bytes.length < RecordSeals.MIN_SECRET_BYTES) {
            throw new IllegalStateException(property + " is " + bytes.length + " bytes; a record-key secret is at"
                    + " least " + RecordSeals.MIN_SECRET_BYTES);
        }
        return bytes;
    }
}
