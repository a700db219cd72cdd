package dev.vigil.agent;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.config.AgentConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.CountDownLatch;
import java.util.logging.LogManager;
import org.libvirt.LibvirtException;

/** {@code java -jar vigil-host-agent.jar}: runs the agent until the process is told to stop. */
public final class AgentMain {

    private AgentMain() {}

    public static void main(String[] args) throws InterruptedException {
        configureLogging();
        AgentConfig config;
        try {
            config = AgentConfig.fromEnvironment();
        } catch (AgentConfigException e) {
            System.err.println("vigil-agent: " + e.getMessage());
            System.exit(2);
            return;
        }
        Agent agent = new Agent(config);
        try {
            agent.start();
        } catch (LibvirtException e) {
            System.err.println("vigil-agent: cannot watch " + config.hypervisorUri() + ": " + e.getMessage());
            agent.close();
            System.exit(3);
            return;
        } catch (UnsatisfiedLinkError e) {
            System.err.println("vigil-agent: libvirt's client library is missing: apt-get install libvirt0 ("
                    + e.getMessage() + ")");
            System.exit(3);
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
