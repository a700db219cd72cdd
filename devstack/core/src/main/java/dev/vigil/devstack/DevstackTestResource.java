package dev.vigil.devstack;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Quarkus face of the devstack: {@code @QuarkusTestResource(DevstackTestResource.class)} points the service under
 * test at the JVM's shared stack. The stack outlives each test resource and stops when the JVM exits.
 */
public final class DevstackTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Devstack.shared().endpoints().quarkusProperties();
    }

    @Override
    public void stop() {
        // Shared by every test in the JVM: stopped by its shutdown hook.
    }
}
