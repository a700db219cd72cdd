package dev.vigil.console;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DispatchKeys;
import dev.vigil.devstack.IdentityProvider;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * What the console stands on, as in production: Keycloak (a real OpenID Connect provider, from its distribution on
 * Maven Central) with Vigil's realm and demo users, and the packaged ingestion, crash triage and dispatch services on
 * the devstack, trusting Keycloak's tokens. Build the services first: {@code ./mvnw install -Dquick -DskipTests -pl
 * services/ingestion,services/crash-triage,services/dispatch -am}.
 */
public final class ConsoleStack implements QuarkusTestResourceLifecycleManager {

    static final Path INGESTION = Path.of("../ingestion/target/quarkus-app/quarkus-run.jar");
    static final Path TRIAGE = Path.of("../crash-triage/target/quarkus-app/quarkus-run.jar");
    static final Path DISPATCH = Path.of("../dispatch/target/quarkus-app/quarkus-run.jar");

    static IdentityProvider identity;
    static String ingestionUrl;
    static String triageUrl;
    /** The evidence key (base64) triage holds and the browser test's agent encrypts with. */
    static String evidenceKey;

    static String dispatchUrl;
    static DispatchKeys dispatchKeys;

    private ServiceProcess ingestion;
    private ServiceProcess triage;
    private ServiceProcess dispatch;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("vigil-console-");
            String distribution = System.getProperty("vigil.keycloak.distribution");
            if (distribution == null) {
                throw new IllegalStateException("vigil.keycloak.distribution is not set (the failsafe configuration"
                        + " sets it to Keycloak's zip in the local Maven repository)");
            }
            identity = IdentityProvider.start(
                    Path.of(distribution), dir.resolve("keycloak"), Ports.free(), Duration.ofSeconds(180));

            int ingestionPort = Ports.free();
            Map<String, String> ingestionConfig = new HashMap<>(identity.verification());
            ingestionConfig.put("vigil.ingestion.tenants", "acme");
            ingestionConfig.put("vigil.ingestion.incident-check-every", "1s");
            ingestion = ServiceProcess.start(
                    INGESTION,
                    Devstack.shared().endpoints(),
                    ingestionPort,
                    ingestionConfig,
                    dir.resolve("ingestion.log"));
            ingestionUrl = "http://127.0.0.1:" + ingestionPort;

            int triagePort = Ports.free();
            Map<String, String> triageConfig = new HashMap<>(identity.verification());
            triageConfig.put("vigil.triage.uptime-url", ingestionUrl);
            // The key the test's agent encrypts its evidence with, made now, which triage holds to read it.
            byte[] key = new byte[32];
            new java.security.SecureRandom().nextBytes(key);
            evidenceKey = java.util.Base64.getEncoder().encodeToString(key);
            triageConfig.put("vigil.triage.evidence-keys", evidenceKey);
            triageConfig.putAll(identity.serviceClient(IdentityProvider.TRIAGE_CLIENT));
            triage = ServiceProcess.start(
                    TRIAGE, Devstack.shared().endpoints(), triagePort, triageConfig, dir.resolve("crash-triage.log"));
            triageUrl = "http://127.0.0.1:" + triagePort;

            int dispatchPort = Ports.free();
            dispatchUrl = "http://127.0.0.1:" + dispatchPort;
            dispatchKeys = DispatchKeys.under(dir.resolve("keys"));
            Map<String, String> dispatchConfig =
                    new HashMap<>(dispatchKeys.config(identity, ingestionUrl, dispatchUrl, triageUrl));
            dispatchConfig.put("vigil.dispatch.rollouts.check-every", "2s");
            // Hosts enrolled here report as the test agents' tenant.
            dispatchConfig.put("vigil.dispatch.enrolment.tenant", "acme");
            dispatch = ServiceProcess.start(
                    DISPATCH, Devstack.shared().endpoints(), dispatchPort, dispatchConfig, dir.resolve("dispatch.log"));
            ingestion.awaitReady(ingestionUrl, Duration.ofSeconds(90));
            triage.awaitReady(triageUrl, Duration.ofSeconds(90));
            dispatch.awaitReady(dispatchUrl, Duration.ofSeconds(90));

            Map<String, String> config = new HashMap<>(identity.consoleClient());
            config.put("vigil.console.triage-url", triageUrl);
            config.put("vigil.console.ingestion-url", ingestionUrl);
            config.put("vigil.console.dispatch-url", dispatchUrl);
            return config;
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("the console's stack did not start: " + e.getMessage(), e);
        }
    }

    @Override
    public void stop() {
        for (ServiceProcess process : new ServiceProcess[] {dispatch, triage, ingestion}) {
            if (process != null) {
                try {
                    process.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (identity != null) {
            identity.close();
        }
    }
}
