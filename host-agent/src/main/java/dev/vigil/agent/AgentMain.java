package dev.vigil.agent;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.config.AgentConfigException;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.DeliveryException;
import dev.vigil.agent.delivery.EnrolCommand;
import dev.vigil.agent.feedback.FeedbackCommand;
import dev.vigil.agent.feedback.FeedbackException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.LogManager;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

/**
 * {@code vigil-agent [run]} runs the agent until the process is told to stop; {@code vigil-agent feedback ...}
 * records a user's comment about a VM for the running agent to publish; {@code vigil-agent enroll TOKEN} enrols this
 * host in a vendor's beta and installs its release; {@code vigil-agent install [RELEASE]} installs a release of the
 * enrolled product.
 */
public final class AgentMain {

    static final int EXIT_USAGE = 2;
    static final int EXIT_HYPERVISOR = 3;
    static final int EXIT_IO = 4;

    private AgentMain() {}

    public static void main(String[] args) throws InterruptedException {
        configureLogging();
        AgentConfig config;
        try {
            config = AgentConfig.fromEnvironment();
        } catch (AgentConfigException e) {
            System.err.println("vigil-agent: " + e.getMessage());
            System.exit(EXIT_USAGE);
            return;
        }
        String command = args.length == 0 ? "run" : args[0];
        switch (command) {
            case "run" -> run(config);
            case "feedback" -> feedback(Arrays.copyOfRange(args, 1, args.length), config);
            case "enroll", "install" -> deliver(command, Arrays.copyOfRange(args, 1, args.length), config);
            default -> {
                System.err.println("usage: vigil-agent [run] | vigil-agent feedback --vm VM \"text\" [--rating N]"
                        + " [--category C] [--screenshot] | vigil-agent enroll TOKEN | vigil-agent install [RELEASE]");
                System.exit(EXIT_USAGE);
            }
        }
    }

    private static void run(AgentConfig config) throws InterruptedException {
        Agent agent = new Agent(config);
        try {
            agent.start();
        } catch (LibvirtException e) {
            System.err.println("vigil-agent: cannot watch " + config.hypervisorUri() + ": " + e.getMessage());
            agent.close();
            System.exit(EXIT_HYPERVISOR);
            return;
        } catch (IOException e) {
            System.err.println("vigil-agent: cannot use the state directory " + config.stateDir() + ": "
                    + e.getMessage() + " (set VIGIL_AGENT_STATE_DIR to a writable directory)");
            agent.close();
            System.exit(EXIT_IO);
            return;
        } catch (UnsatisfiedLinkError e) {
            System.err.println("vigil-agent: libvirt's client library is missing: apt-get install libvirt0 ("
                    + e.getMessage() + ")");
            System.exit(EXIT_HYPERVISOR);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            agent.close();
                            stopped.countDown();
                        },
                        "vigil-agent-stop"));
        stopped.await();
    }

    private static void feedback(String[] args, AgentConfig config) {
        try {
            String eventId = FeedbackCommand.run(args, config, Agent.version());
            System.out.println("feedback " + eventId + " recorded; the agent publishes it");
        } catch (FeedbackException e) {
            System.err.println("vigil-agent feedback: " + e.getMessage());
            System.exit(EXIT_USAGE);
        } catch (LibvirtException e) {
            System.err.println("vigil-agent feedback: hypervisor: " + e.getMessage());
            System.exit(EXIT_HYPERVISOR);
        } catch (IOException e) {
            System.err.println(
                    "vigil-agent feedback: cannot write to " + Agent.inboxDir(config) + ": " + e.getMessage());
            System.exit(EXIT_IO);
        }
    }

    /**
     * {@code enroll TOKEN} or {@code install [RELEASE]}: exits 0 when done, with a message that says what to do if not.
     * A VM started before its image arrived runs at once; the command stays to pull the rest (the running agent
     * carries on if it is stopped).
     */
    private static void deliver(String command, String[] args, AgentConfig config) {
        try (Deliveries deliveries = new Deliveries(config, System.out, Duration.ofSeconds(2), Clock.systemUTC())) {
            Connect hypervisor = new Connect(config.hypervisorUri());
            try {
                if (command.equals("enroll")) {
                    EnrolCommand.run(
                            args, config, hypervisor, System.out, Agent.version(), Clock.systemUTC(), deliveries);
                } else {
                    deliveries.installer().install(hypervisor, args.length > 0 ? args[0] : null);
                }
            } finally {
                hypervisor.close();
            }
            if (deliveries.pulling()) {
                System.out.println("the VM is usable now; the rest of its image arrives in the background (stopping"
                        + " this leaves it to the running agent)");
            }
            List<String> failures = deliveries.await();
            if (!failures.isEmpty()) {
                System.err.println("vigil-agent " + command + ": " + String.join("; ", failures));
                System.exit(EXIT_IO);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(EXIT_IO);
        } catch (DeliveryException e) {
            System.err.println("vigil-agent " + command + ": " + e.getMessage());
            System.exit(
                    switch (e.kind()) {
                        case NETWORK, IO, NO_SPACE -> EXIT_IO;
                        case HYPERVISOR -> EXIT_HYPERVISOR;
                        default -> EXIT_USAGE;
                    });
        } catch (LibvirtException e) {
            System.err.println("vigil-agent " + command + ": cannot reach the hypervisor " + config.hypervisorUri()
                    + ": " + e.getMessage());
            System.exit(EXIT_HYPERVISOR);
        }
    }

    /** The bundled logging defaults, unless the operator named a file with java.util.logging.config.file. */
    static void configureLogging() {
        if (System.getProperty("java.util.logging.config.file") != null) {
            return;
        }
        try (InputStream in = AgentMain.class.getResourceAsStream("logging.properties")) {
            if (in != null) {
                LogManager.getLogManager().readConfiguration(in);
            }
        } catch (IOException e) {
            System.err.println("vigil-agent: bundled logging configuration unreadable: " + e.getMessage());
        }
    }
}
