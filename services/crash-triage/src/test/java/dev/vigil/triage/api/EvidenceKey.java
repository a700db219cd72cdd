package dev.vigil.triage.api;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * An evidence key made at test time (no secret in the repository), which triage holds as
 * {@code vigil.triage.evidence-keys}, as a deployment gives it the key its agents encrypt evidence with.
 */
public final class EvidenceKey implements QuarkusTestResourceLifecycleManager {

    private static final String PROPERTY = "vigil.triage.evidence-keys";

    @Override
    public Map<String, String> start() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Map.of(PROPERTY, Base64.getEncoder().encodeToString(key));
    }

    @Override
    public void stop() {}

    /** The key triage holds, as the test's agent would hold it. */
    static byte[] held() {
        return Base64.getDecoder()
                .decode(ConfigProvider.getConfig()
                        .getValue(PROPERTY, String.class)
                        .split(",")[0]);
    }
}
