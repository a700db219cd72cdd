package dev.vigil.dispatch;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.ServiceProcess;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * The packaged ingestion and crash triage services on the devstack, as dispatch meets them in production: ingestion
 * keeps the uptime ledger and assembles crash reports, triage files them and answers release health. Triage trusts
 * a key pair made here, and dispatch gets an analyst token signed with it (as it would get one from the identity
 * provider). Build the services first: {@code ./mvnw install -Dquick -DskipTests -pl services/ingestion,services/crash-triage -am}.
 */
public final class TriageStack implements QuarkusTestResourceLifecycleManager {

    static final Path INGESTION = Path.of("../ingestion/target/quarkus-app/quarkus-run.jar");
    static final Path TRIAGE = Path.of("../crash-triage/target/quarkus-app/quarkus-run.jar");

    static String ingestionUrl;
    static String triageUrl;
    static String triageToken;

    private ServiceProcess ingestion;
    private ServiceProcess triage;

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("vigil-dispatch-triage-");
            int ingestionPort = freePort();
            ingestion = ServiceProcess.start(
                    INGESTION,
                    Devstack.shared().endpoints(),
                    ingestionPort,
                    Map.of(
                            "vigil.ingestion.tenants", "acme",
                            "vigil.ingestion.incident-check-every", "1s",
                            "vigil.ingestion.incident-deadline", "PT2S"),
                    dir.resolve("ingestion.log"));
            ingestionUrl = "http://127.0.0.1:" + ingestionPort;
            ingestion.awaitReady(ingestionUrl, Duration.ofSeconds(90));

            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair pair = generator.generateKeyPair();
            Path publicKey = dir.resolve("triage-jwt.pem");
            Files.writeString(
                    publicKey, TestKeys.pem("PUBLIC KEY", pair.getPublic().getEncoded()));
            int triagePort = freePort();
            triage = ServiceProcess.start(
                    TRIAGE,
                    Devstack.shared().endpoints(),
                    triagePort,
                    Map.of(
                            "vigil.triage.uptime-url",
                            ingestionUrl,
                            "mp.jwt.verify.publickey.location",
                            publicKey.toUri().toString()),
                    dir.resolve("crash-triage.log"));
            triageUrl = "http://127.0.0.1:" + triagePort;
            triage.awaitReady(triageUrl, Duration.ofSeconds(90));
            triageToken = analystToken(pair);

            Map<String, String> config = new HashMap<>();
            config.put("vigil.dispatch.rollouts.triage-url", triageUrl);
            config.put("vigil.dispatch.rollouts.triage-token", triageToken);
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

    /** An RS256 JWT with the analyst role, as the identity provider would issue dispatch for crash triage. */
    private static String analystToken(KeyPair pair) throws Exception {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        long now = Instant.now().getEpochSecond();
        String header = base64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String claims = base64.encodeToString(("{\"iss\":\"https://auth.vigil.dev\",\"upn\":\"vigil-dispatch\","
                        + "\"groups\":[\"analyst\"],\"iat\":" + now + ",\"exp\":" + (now + 86_400) + "}")
                .getBytes(StandardCharsets.UTF_8));
        Signature rsa = Signature.getInstance("SHA256withRSA");
        rsa.initSign(pair.getPrivate());
        rsa.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
        return header + "." + claims + "." + base64.encodeToString(rsa.sign());
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
