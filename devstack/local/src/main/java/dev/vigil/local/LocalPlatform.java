package dev.vigil.local;

import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.EnrolCommand;
import dev.vigil.agent.delivery.Enrolment;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.DevstackException;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.IdentityProvider;
import dev.vigil.devstack.ServiceProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.logging.LogManager;
import org.libvirt.Connect;

/**
 * {@code devstack/run}: Vigil on the embedded stack on this machine. Starts Kafka, PostgreSQL and S3 (data kept under
 * the work directory), Keycloak as the identity provider (demo users per role), the ingestion, crash triage and
 * dispatch services (dispatch with a demo release and beta programme), the console, and a host agent on libvirt's
 * test hypervisor that takes dispatch's commands; prints where to look; then lets a person drive the test hypervisor
 * from the terminal.
 *
 * <p>Options: {@code --work-dir DIR} (default {@code .devstack}), {@code --wipe} (delete the work directory first).
 * Ports: {@code VIGIL_DEVSTACK_*_PORT} for the stack, {@code VIGIL_LOCAL_HTTP_PORT} (default 8080) for ingestion,
 * {@code VIGIL_LOCAL_TRIAGE_PORT} (default 8082) for crash triage, {@code VIGIL_LOCAL_DISPATCH_PORT} (default 8083)
 * for dispatch, {@code VIGIL_LOCAL_CONSOLE_PORT} (default 8084) for the console, {@code VIGIL_LOCAL_IDP_PORT} (default
 * 8180) for Keycloak, {@code VIGIL_LOCAL_AGENT_HTTP_PORT} (default 9464) for the agent's health and metrics. Every
 * port is checked before anything starts.
 */
public final class LocalPlatform {

    private static final String DEMO_VM = "demo-web-1";
    private static int httpPort = 8080;

    private LocalPlatform() {}

    public static void main(String[] args) throws Exception {
        configureLogging();
        PrintStream out = System.out;
        Path workDir = Path.of(".devstack");
        boolean wipe = false;
        Boolean real = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--wipe" -> wipe = true;
                case "--work-dir" -> workDir = Path.of(args[++i]);
                case "--real" -> real = true;
                case "--test-hypervisor" -> real = false;
                default -> {
                    System.err.println("usage: devstack/run [--work-dir DIR] [--wipe] [--real | --test-hypervisor]");
                    System.exit(2);
                }
            }
        }
        try {
            if (real == null) {
                real = RealGuests.available();
            } else if (real && !RealGuests.available()) {
                throw new LocalPlatformException("--real needs QEMU and the test guest: run sudo"
                        + " devstack/hypervisor/setup first (libvirtd must answer on " + RealGuests.URI + ")");
            }
            run(workDir.toAbsolutePath(), wipe, real, out);
        } catch (LocalPlatformException | DevstackException e) {
            System.err.println("vigil: " + e.getMessage());
            System.exit(1);
        } catch (UnsatisfiedLinkError e) {
            System.err.println(
                    "vigil: libvirt's client library is missing: sudo apt-get install --no-install-recommends"
                            + " libvirt0 (" + e.getMessage() + ")");
            System.exit(1);
        }
    }

    static int httpPort() {
        return httpPort;
    }

    private static void run(Path workDir, boolean wipe, boolean real, PrintStream out) throws Exception {
        long started = System.nanoTime();
        Map<String, String> env = System.getenv();
        httpPort = parsePort(env.getOrDefault("VIGIL_LOCAL_HTTP_PORT", "8080"), "VIGIL_LOCAL_HTTP_PORT");
        requireFree(httpPort, "VIGIL_LOCAL_HTTP_PORT");
        Path ingestionApp = Path.of(System.getProperty(
                "vigil.local.ingestion-app", "services/ingestion/target/quarkus-app/quarkus-run.jar"));
        Path dispatchApp = Path.of(
                System.getProperty("vigil.local.dispatch-app", "services/dispatch/target/quarkus-app/quarkus-run.jar"));
        int dispatchPort =
                parsePort(env.getOrDefault("VIGIL_LOCAL_DISPATCH_PORT", "8083"), "VIGIL_LOCAL_DISPATCH_PORT");
        requireFree(dispatchPort, "VIGIL_LOCAL_DISPATCH_PORT");
        Path triageApp = Path.of(System.getProperty(
                "vigil.local.triage-app", "services/crash-triage/target/quarkus-app/quarkus-run.jar"));
        int triagePort = parsePort(env.getOrDefault("VIGIL_LOCAL_TRIAGE_PORT", "8082"), "VIGIL_LOCAL_TRIAGE_PORT");
        requireFree(triagePort, "VIGIL_LOCAL_TRIAGE_PORT");
        Path consoleApp = Path.of(
                System.getProperty("vigil.local.console-app", "services/console/target/quarkus-app/quarkus-run.jar"));
        int consolePort = parsePort(env.getOrDefault("VIGIL_LOCAL_CONSOLE_PORT", "8084"), "VIGIL_LOCAL_CONSOLE_PORT");
        requireFree(consolePort, "VIGIL_LOCAL_CONSOLE_PORT");
        int idpPort = parsePort(env.getOrDefault("VIGIL_LOCAL_IDP_PORT", "8180"), "VIGIL_LOCAL_IDP_PORT");
        requireFree(idpPort, "VIGIL_LOCAL_IDP_PORT");
        Path keycloak = Path.of(System.getProperty("vigil.local.keycloak-dist", "missing-keycloak-distribution.zip"));
        String agentPort = env.getOrDefault("VIGIL_LOCAL_AGENT_HTTP_PORT", "9464");
        requireFree(parsePort(agentPort, "VIGIL_LOCAL_AGENT_HTTP_PORT"), "VIGIL_LOCAL_AGENT_HTTP_PORT");
        if (wipe) {
            Devstack.deleteTree(workDir);
            out.println("wiped " + workDir);
        }

        out.println("starting Kafka, PostgreSQL and S3 (data in " + workDir.resolve("stack") + ") ...");
        Devstack stack = Devstack.start(DevstackConfig.local(workDir.resolve("stack"), env));
        Endpoints endpoints = stack.endpoints();
        out.println("  " + stack.startupTimes());

        out.println(
                "starting Keycloak, the identity provider (log: " + workDir.resolve("identity/keycloak.log") + ") ...");
        CompletableFuture<IdentityProvider> starting = CompletableFuture.supplyAsync(
                () -> IdentityProvider.start(keycloak, workDir.resolve("identity"), idpPort, Duration.ofSeconds(240)));
        out.println("starting ingestion (log: " + workDir.resolve("logs/ingestion.log") + ") ...");
        String baseUrl = "http://127.0.0.1:" + httpPort;
        // Ingestion starts beside Keycloak: it fetches the provider's keys when the first token arrives.
        ServiceProcess ingestion = ServiceProcess.start(
                ingestionApp,
                endpoints,
                httpPort,
                IdentityProvider.verification("http://127.0.0.1:" + idpPort),
                workDir.resolve("logs/ingestion.log"));
        Agent agent = null;
        ServiceProcess dispatch = null;
        ServiceProcess triage = null;
        ServiceProcess console = null;
        IdentityProvider identity = null;
        String consoleUrl = "http://127.0.0.1:" + consolePort;
        String dispatchUrl = "http://127.0.0.1:" + dispatchPort;
        String triageUrl = "http://127.0.0.1:" + triagePort;
        LocalDispatch keys = LocalDispatch.prepare(workDir);
        try {
            ingestion.awaitReady(baseUrl, Duration.ofSeconds(90));
            identity = identity(starting);
            out.println("starting crash triage, dispatch and the console (logs: " + workDir.resolve("logs") + ") ...");
            Map<String, String> triageConfig = new HashMap<>(identity.verification());
            triageConfig.putAll(identity.serviceClient(IdentityProvider.TRIAGE_CLIENT));
            triageConfig.put("vigil.triage.uptime-url", baseUrl);
            triage = ServiceProcess.start(
                    triageApp, endpoints, triagePort, triageConfig, workDir.resolve("logs/crash-triage.log"));
            Map<String, String> dispatchConfig = new HashMap<>(keys.config(identity, baseUrl, dispatchUrl, triageUrl));
            // Hosts enrolled here report as the local agent's tenant.
            dispatchConfig.put("vigil.dispatch.enrolment.tenant", "local");
            dispatch = ServiceProcess.start(
                    dispatchApp, endpoints, dispatchPort, dispatchConfig, workDir.resolve("logs/dispatch.log"));
            Map<String, String> consoleConfig = new HashMap<>(identity.consoleClient());
            consoleConfig.put("vigil.console.triage-url", triageUrl);
            consoleConfig.put("vigil.console.ingestion-url", baseUrl);
            consoleConfig.put("vigil.console.dispatch-url", dispatchUrl);
            console = ServiceProcess.start(
                    consoleApp, endpoints, consolePort, consoleConfig, workDir.resolve("logs/console.log"));
            dispatch.awaitReady(dispatchUrl, Duration.ofSeconds(90));
            triage.awaitReady(triageUrl, Duration.ofSeconds(90));
            console.awaitReady(consoleUrl, Duration.ofSeconds(90));
            keys.writeTokens(identity);
            keys.seed(identity, dispatchUrl, workDir, out);
            out.println(
                    real
                            ? "starting a host agent on QEMU (" + RealGuests.URI + ") ..."
                            : "starting a host agent on libvirt's test hypervisor (devstack/hypervisor/setup gives QEMU) ...");
            Map<String, String> agentConfig = new HashMap<>(Map.ofEntries(
                    // No client certificate: dispatch's enrolment CA issues the host's at enrolment.
                    Map.entry("VIGIL_AGENT_CONFIG_FILE", endpoints.enrolledAgentConfigFile()),
                    Map.entry("VIGIL_AGENT_HYPERVISOR_URI", real ? RealGuests.URI : "test:///default"),
                    Map.entry("VIGIL_AGENT_STATE_DIR", workDir.resolve("agent").toString()),
                    Map.entry("VIGIL_AGENT_HTTP_PORT", agentPort),
                    Map.entry("VIGIL_AGENT_HOST_ID", "local-host"),
                    Map.entry("VIGIL_AGENT_TENANT", "local"),
                    Map.entry("VIGIL_AGENT_VENDOR_KEYS", keys.agentVendorKeys()),
                    // Commands, record keys and evidence links come from the local dispatch, as on any enrolled
                    // host: the agent holds no object store credentials.
                    Map.entry("VIGIL_AGENT_DISPATCH_URL", dispatchUrl),
                    Map.entry("VIGIL_AGENT_EVIDENCE_UPLOAD", "links")));
            if (!real) {
                // The test hypervisor's screen is a fixed picture while its vCPU time runs with the clock, so every
                // VM would look busy behind a frozen screen and be reported hung.
                agentConfig.put("VIGIL_AGENT_FRAME_CHECK_PERIOD", "0");
            }
            AgentConfig loaded = AgentConfig.load(agentConfig);
            enrol(loaded, dispatchUrl, out);
            agent = new Agent(loaded);
            agent.start();
        } catch (RuntimeException | InterruptedException | IOException | dev.vigil.cli.CliException e) {
            for (ServiceProcess service : new ServiceProcess[] {console, dispatch, triage}) {
                if (service != null) {
                    service.close();
                }
            }
            ingestion.close();
            if (identity == null) {
                starting.thenAccept(IdentityProvider::close);
            } else {
                identity.close();
            }
            stack.close();
            throw e instanceof dev.vigil.cli.CliException
                    ? new LocalPlatformException("seeding dispatch's demo release: " + e.getMessage())
                    : e;
        }
        Connect hypervisor = new Connect(real ? RealGuests.URI : "test:///default");
        RealGuests guests = null;
        String demoUuid;
        if (real) {
            String diskfull = env.get("VIGIL_LOCAL_DISKFULL_DIR");
            guests = new RealGuests(hypervisor, workDir.resolve("guests"), diskfull == null ? null : Path.of(diskfull));
            guests.removeAll();
            demoUuid = guests.boot(DEMO_VM, "idle");
        } else {
            demoUuid = new HypervisorPrompt(hypervisor, out).startDomain(DEMO_VM);
        }
        HypervisorPrompt prompt = new HypervisorPrompt(hypervisor, out, guests, consoleUrl);
        RealGuests runningGuests = guests;

        Agent runningAgent = agent;
        ServiceProcess runningDispatch = dispatch;
        ServiceProcess runningTriage = triage;
        ServiceProcess runningConsole = console;
        IdentityProvider runningIdentity = identity;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            out.println("\nstopping Vigil ...");
                            if (runningGuests != null) {
                                runningGuests.removeAll();
                            }
                            runningAgent.close();
                            try {
                                runningConsole.close();
                                runningDispatch.close();
                                runningTriage.close();
                                ingestion.close();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                            runningIdentity.close();
                            stack.close();
                            out.println("stopped; data kept in " + workDir + " (devstack/run --wipe starts afresh)");
                            stopped.countDown();
                        },
                        "vigil-local-stop"));

        out.printf(
                """

                Vigil is up in %.1f s.
                  Console              %s   sign in as analyst / %s, admin / %s, operator / %s
                  Identity provider    %s (Keycloak; demo logins in %s)
                  VMs (ingestion API)  %s/api/v1/vms
                  A VM's events        %s/api/v1/vms/%s/events
                  OpenAPI / Swagger UI %s/q/openapi  %s/q/swagger-ui
                  Health, metrics      %s/q/health  %s/q/metrics
                  Agent health/metrics http://127.0.0.1:%s/health  /metrics (spool in %s)
                  Crash buckets        %s/api/v1/buckets  (OpenAPI: %s/q/swagger-ui)
                  Dispatch             %s  (enrol: %s/enrol, OpenAPI: %s/q/swagger-ui)
                  Access tokens (12 h) %s/{admin,operator,analyst}.jwt
                  Kafka                %s (mTLS; client certificates and their password in %s)
                  PostgreSQL           %s (user %s)
                  S3                   %s (keys in %s)

                Try: curl -s -H "Authorization: Bearer $(cat %s/analyst.jwt)" %s/api/v1/vms/%s/events
                     curl -s -H "Authorization: Bearer $(cat %s/analyst.jwt)" -H 'Content-Type: text/plain' \\
                       --data-binary @crash.txt %s/api/v1/signatures   (title and keys of a pasted kernel crash)
                     curl -s -H "Authorization: Bearer $(cat %s/operator.jwt)" -H 'Content-Type: application/json' \\
                       -d '{"action":"REPORT","targets":[{"hostId":"local-host"}]}' %s/api/v1/commands
                Drive the %s here (%s); Ctrl-C stops everything.
                """,
                (System.nanoTime() - started) / 1e9,
                consoleUrl,
                identity.password("analyst"),
                identity.password("admin"),
                identity.password("operator"),
                identity.issuer(),
                workDir.resolve("identity/demo-users.properties"),
                baseUrl,
                baseUrl,
                demoUuid,
                baseUrl,
                baseUrl,
                baseUrl,
                baseUrl,
                agentPort,
                workDir.resolve("agent/spool"),
                triageUrl,
                triageUrl,
                dispatchUrl,
                dispatchUrl,
                dispatchUrl,
                keys.tokens(),
                endpoints.kafkaBootstrapServers(),
                endpoints.kafkaTls().truststore().getParent(),
                endpoints.jdbcUrl(),
                endpoints.jdbcUser(),
                endpoints.s3Endpoint(),
                workDir.resolve("stack/s3-credentials.properties"),
                keys.tokens(),
                baseUrl,
                demoUuid,
                keys.tokens(),
                triageUrl,
                keys.tokens(),
                dispatchUrl,
                real ? "VMs on QEMU" : "test hypervisor",
                prompt.help());
        if (prompt.run(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)))) {
            System.exit(0); // quit: the shutdown hook stops everything, whether or not output is a terminal
        }
        // The input ended (run in the background, or from a script): keep serving until signalled.
        stopped.await();
    }

    /** The identity provider once it is up; its failure is the run's. */
    private static IdentityProvider identity(CompletableFuture<IdentityProvider> starting) {
        try {
            return starting.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException cause) {
                throw cause;
            }
            throw e;
        }
    }

    private static int parsePort(String value, String variable) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new LocalPlatformException(variable + "=" + value + " is not a TCP port");
        }
    }

    private static void requireFree(int port, String variable) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
        } catch (IOException e) {
            throw new LocalPlatformException("port " + port + " is already in use: stop what holds it (ss -ltnp"
                    + " 'sport = :" + port + "') or set " + variable);
        }
    }

    private static void configureLogging() throws IOException {
        if (System.getProperty("java.util.logging.config.file") == null) {
            try (InputStream in = LocalPlatform.class.getResourceAsStream("/dev/vigil/local/logging.properties")) {
                if (in != null) {
                    LogManager.getLogManager().readConfiguration(in);
                }
            }
            PromptLog.install(System.out);
        }
    }

    /**
     * Enrols the local host in the demo programme as a person would (its page, then the agent's redemption), once:
     * dispatch gives it its host token, record key and license. Its VM is not installed; `vigil-agent install` does
     * that when wanted.
     */
    private static void enrol(AgentConfig config, String dispatchUrl, PrintStream out)
            throws IOException, InterruptedException {
        try {
            Enrolment.load(config.stateDir());
            return;
        } catch (DeliveryException notYet) {
            // Enrol below.
        }
        try (Deliveries deliveries = new Deliveries(config, out, Duration.ofSeconds(2), Clock.systemUTC())) {
            EnrolCommand.enrol(
                    LocalDispatch.enrolmentToken(dispatchUrl), config, out, "local", Clock.systemUTC(), deliveries);
        } catch (DeliveryException e) {
            throw new IOException("enrolling the local host with dispatch: " + e.getMessage(), e);
        }
    }
}
