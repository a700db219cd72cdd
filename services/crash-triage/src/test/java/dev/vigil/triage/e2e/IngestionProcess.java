package dev.vigil.triage.e2e;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.devstack.StaffTokens;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The packaged ingestion service on the devstack, started before crash triage so triage is configured with its
 * URL (the uptime ledger behind crash rates). Init args named {@code triage.<key>} are triage settings for the test;
 * the others are ingestion settings.
 */
public final class IngestionProcess implements QuarkusTestResourceLifecycleManager {

    static final Path APP = Path.of("../ingestion/target/quarkus-app/quarkus-run.jar");
    private static final String TRIAGE = "triage.";

    private final Map<String, String> ingestion = new java.util.HashMap<>(Map.of(
            "vigil.ingestion.tenants", "acme",
            "vigil.ingestion.incident-check-every", "1s",
            "vigil.ingestion.artifact-verify-every", "1s"));
    private final Map<String, String> triage = new java.util.HashMap<>();
    private ServiceProcess process;

    @Override
    public void init(Map<String, String> initArgs) {
        initArgs.forEach((key, value) -> {
            if (key.startsWith(TRIAGE)) {
                triage.put(key.substring(TRIAGE.length()), value);
            } else {
                ingestion.put(key, value);
            }
        });
    }

    @Override
    public Map<String, String> start() {
        if (!Files.exists(APP)) {
            throw new IllegalStateException(APP + " is missing: build services/ingestion first");
        }
        try {
            int port = Ports.free();
            Path log = Files.createTempFile("vigil-e2e-ingestion-", ".log");
            // Ingestion trusts this JVM's test key, and triage calls it with a token signed by it, as crash triage's
            // service account (the analyst role) would from the identity provider.
            StaffTokens keys = StaffTokens.ephemeral();
            Map<String, String> settings = new java.util.HashMap<>(ingestion);
            settings.put(
                    "mp.jwt.verify.publickey.location", keys.publicKey().toUri().toString());
            settings.put("mp.jwt.verify.issuer", StaffTokens.ISSUER);
            process = ServiceProcess.start(APP, Devstack.shared().endpoints(), port, Map.copyOf(settings), log);
            process.awaitReady("http://127.0.0.1:" + port, Duration.ofSeconds(90));
            Map<String, String> config = new java.util.HashMap<>(triage);
            config.put("vigil.triage.uptime-url", "http://127.0.0.1:" + port);
            config.put(
                    "vigil.service-auth.token",
                    keys.token("vigil-crash-triage", List.of("analyst"), Duration.ofHours(6)));
            return config;
        } catch (Exception e) {
            throw new IllegalStateException("ingestion did not start: " + e.getMessage(), e);
        }
    }

    @Override
    public void stop() {
        if (process != null) {
            try {
                process.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
