package dev.vigil.dispatch;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.devstack.StaffTokens;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The packaged ingestion and crash triage services on the devstack, as dispatch meets them in production: ingestion
 * keeps the uptime ledger and assembles crash reports, triage files them and answers release health. Triage trusts
 * {@link StaffTokens} made here, and dispatch gets an analyst token from them (as it would from the identity
 * provider). Build the services first: {@code ./mvnw install -Dquick -DskipTests -pl services/ingestion,services/crash-triage -am}.
 */
public final class TriageStack implements QuarkusTestResourceLifecycleManager {

    static final Path INGESTION = Path.of("../ingestion/target/quarkus-app/quarkus-run.jar");
    static final Path TRIAGE = Path.of("../crash-triage/target/quarkus-app/quarkus-run.jar");

    static String ingestionUrl;
    static String triageUrl;
    static String serviceToken;

    private ServiceProcess ingestion;
    private ServiceProcess triage;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("vigil-dispatch-triage-");
            // Ingestion and crash triage trust one test key; each service calls the others with a token signed by it,
            // as its service account (the analyst role) would get one from the identity provider.
            StaffTokens tokens = StaffTokens.in(dir.resolve("jwt"));
            serviceToken = tokens.token("vigil-dispatch", List.of("analyst"), Duration.ofDays(1));
            String verify = tokens.publicKey().toUri().toString();
            int ingestionPort = Ports.free();
            ingestion = ServiceProcess.start(
                    INGESTION,
                    Devstack.shared().endpoints(),
                    ingestionPort,
                    Map.of(
                            "vigil.ingestion.tenants", "acme",
                            "vigil.ingestion.incident-check-every", "1s",
                            "vigil.ingestion.incident-deadline", "PT2S",
                            "mp.jwt.verify.publickey.location", verify),
                    dir.resolve("ingestion.log"));
            ingestionUrl = "http://127.0.0.1:" + ingestionPort;
            ingestion.awaitReady(ingestionUrl, Duration.ofSeconds(90));

            int triagePort = Ports.free();
            triage = ServiceProcess.start(
                    TRIAGE,
                    Devstack.shared().endpoints(),
                    triagePort,
                    Map.of(
                            "vigil.triage.uptime-url",
                            ingestionUrl,
                            "mp.jwt.verify.publickey.location",
                            verify,
                            "vigil.service-auth.token",
                            tokens.token("vigil-crash-triage", List.of("analyst"), Duration.ofDays(1))),
                    dir.resolve("crash-triage.log"));
            triageUrl = "http://127.0.0.1:" + triagePort;
            triage.awaitReady(triageUrl, Duration.ofSeconds(90));

            Map<String, String> config = new HashMap<>();
            config.put("vigil.dispatch.rollouts.triage-url", triageUrl);
            config.put("vigil.service-auth.token", serviceToken);
            config.put("vigil.dispatch.ingestion-url", ingestionUrl);
            return config;
        } catch (Exception e) {
            throw new IllegalStateException("ingestion and crash triage did not start: " + e.getMessage(), e);
        }
    }

    @Override
    public void stop() {
        for (ServiceProcess process : new ServiceProcess[] {triage, ingestion}) {
            if (process != null) {
                try {
                    process.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
