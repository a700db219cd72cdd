package dev.vigil.dispatch;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Deliveries;
import dev.vigil.agent.delivery.EnrolCommand;
import dev.vigil.agent.delivery.Installer;
import dev.vigil.devstack.Devstack;
import io.restassured.RestAssured;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.libvirt.Connect;

/**
 * A host with the agent's configuration and state, enrolling and installing as {@code vigil-agent} does, and
 * keeping what it printed.
 */
final class AgentHost {

    final String id;
    final Path state;
    private final Map<String, String> settings;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** @param settings agent settings beyond dispatch's address and the state directory */
    AgentHost(Path state, Map<String, String> settings) {
        this("host-" + UUID.randomUUID(), state, settings);
        this.settings.put("VIGIL_AGENT_DISPATCH_URL", "http://localhost:" + RestAssured.port);
        this.settings.put("VIGIL_AGENT_STATE_DIR", state.toString());
    }

    private AgentHost(String id, Path state, Map<String, String> settings) {
        this.id = id;
        this.state = state;
        this.settings = new HashMap<>(settings);
    }

    /** The same host (id, state) with one setting changed, printing on its own. */
    AgentHost with(String key, String value) {
        Map<String, String> changed = new HashMap<>(settings);
        changed.put(key, value);
        return new AgentHost(id, state, changed);
    }

    /**
     * A host on the test hypervisor, which reads no disks: its installs download the whole image first (LazyBootIT
     * boots real VMs from partial images).
     */
    static AgentHost onTestHypervisor(Path state) {
        return new AgentHost(state, Map.of("VIGIL_AGENT_LAZY_BOOT", "false"));
    }

    /** The settings a running agent of this host is started with. */
    Map<String, String> settings() {
        return Map.copyOf(settings);
    }

    AgentConfig config() {
        Map<String, String> values = new HashMap<>();
        values.put("VIGIL_AGENT_CONFIG_FILE", Devstack.shared().endpoints().agentConfigFile());
        values.put("VIGIL_AGENT_HYPERVISOR_URI", "test:///default");
        values.put("VIGIL_AGENT_HOST_ID", id);
        values.put("VIGIL_AGENT_TENANT", "acme");
        values.putAll(settings);
        return AgentConfig.load(values);
    }

    /** {@code vigil-agent enroll TOKEN}, with its deliveries closed when it returns. */
    Installer.Installation enroll(String token, Connect hypervisor) throws Exception {
        try (Deliveries deliveries = deliveries()) {
            return enroll(token, hypervisor, deliveries);
        }
    }

    /** {@code vigil-agent enroll TOKEN}, with pulls going on in {@code deliveries}. */
    Installer.Installation enroll(String token, Connect hypervisor, Deliveries deliveries) throws Exception {
        return EnrolCommand.run(
                new String[] {token}, config(), hypervisor, printer(), "test", Clock.systemUTC(), deliveries);
    }

    /** {@code vigil-agent install [RELEASE]}. */
    Installer.Installation install(String release, Connect hypervisor) throws Exception {
        try (Deliveries deliveries = deliveries()) {
            return deliveries.installer().install(hypervisor, release);
        }
    }

    Deliveries deliveries() {
        return new Deliveries(config(), printer(), Duration.ofMillis(50), Clock.systemUTC());
    }

    PrintStream printer() {
        return new PrintStream(out, true, StandardCharsets.UTF_8);
    }

    String printed() {
        return out.toString(StandardCharsets.UTF_8);
    }
}
