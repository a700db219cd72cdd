package dev.vigil.devstack;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/**
 * Quarkus face of the devstack: {@code @QuarkusTestResource(DevstackTestResource.class)} points the service under
 * test at the JVM's shared stack. The stack outlives each test resource and stops when the JVM exits.
 */
public final class DevstackTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Devstack.shared().endpoints().quarkusProperties(applicationName());
    }

    /** The service under test's {@code quarkus.application.name}: its Kafka principal. */
    static String applicationName() {
        Properties properties = new Properties();
        try (InputStream in =
                Thread.currentThread().getContextClassLoader().getResourceAsStream("application.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the service's application.properties", e);
        }
        String name = properties.getProperty("quarkus.application.name");
        if (name == null || name.isBlank()) {
            throw new DevstackException("the service under test names no quarkus.application.name in its "
                    + "application.properties: the devstack needs it to choose the service's Kafka principal");
        }
        return name.trim();
    }

    @Override
    public void stop() {
        // Shared by every test in the JVM: stopped by its shutdown hook.
    }
}
