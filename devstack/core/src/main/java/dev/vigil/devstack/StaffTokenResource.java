package dev.vigil.devstack;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Makes a service under test trust {@link StaffTokens#ephemeral()}: tests then sign the tokens of whatever staff or
 * service they act as, and no key is ever committed.
 */
public final class StaffTokenResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Map.of(
                "mp.jwt.verify.publickey.location",
                StaffTokens.ephemeral().publicKey().toUri().toString(),
                "mp.jwt.verify.issuer",
                StaffTokens.ISSUER);
    }

    @Override
    public void stop() {}
}
