package dev.vigil.dispatch;

import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.delivery.Enrolment;
import dev.vigil.devstack.Devstack;
import io.restassured.RestAssured;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * A real host agent in the test JVM, on libvirt's test hypervisor and the devstack's Kafka, that pins dispatch's
 * command keys as an installed agent would ({@code VIGIL_AGENT_VENDOR_KEYS} from {@code GET /api/v1/keys}) and fetches
 * its commands from dispatch with its host token.
 */
public final class RunningAgent implements AutoCloseable {

    public final String hostId;
    public final Path stateDir;
    public final Connect hypervisor;
    private final Agent agent;

    private RunningAgent(String hostId, Path stateDir, Connect hypervisor, Agent agent) {
        this.hostId = hostId;
        this.stateDir = stateDir;
        this.hypervisor = hypervisor;
        this.agent = agent;
    }

    /**
     * Enrols {@code hostId} in a new programme on a product's beta channel and starts its agent, which fetches its
     * commands from this dispatch with the host token the enrolment gave it, and publishes with the Kafka certificate
     * dispatch issues it (no release is installed).
     */
    public static RunningAgent start(String hostId) throws Exception {
        Path stateDir = Files.createTempDirectory("vigil-dispatch-agent-");
        String product = Vendor.product();
        new Enrolment(product, "beta", Enrolments.host(product, "beta", hostId).getString("hostToken")).save(stateDir);
        // Its Kafka certificate comes from dispatch's enrolment CA, as an enrolled fleet host's does.
        return start(
                hostId,
                stateDir,
                Map.of(
                        "VIGIL_AGENT_DISPATCH_URL",
                        "http://localhost:" + RestAssured.port,
                        "VIGIL_AGENT_CONFIG_FILE",
                        Devstack.shared().endpoints().enrolledAgentConfigFile()));
    }

    /** Starts an agent for {@code hostId} on {@code stateDir}, with more of its settings ({@code VIGIL_AGENT_*}). */
    public static RunningAgent start(String hostId, Path stateDir, Map<String, String> settings) throws Exception {
        String pins = Staff.analyst()
                .get("/api/v1/keys")
                .then()
                .statusCode(200)
                .extract()
                .path("agentCommandKeys");
        Map<String, String> values = new java.util.HashMap<>(Map.of(
                "VIGIL_AGENT_CONFIG_FILE",
                Devstack.shared().endpoints().agentConfigFile(),
                "VIGIL_AGENT_HYPERVISOR_URI",
                "test:///default",
                "VIGIL_AGENT_STATE_DIR",
                stateDir.toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_HOST_ID",
                hostId,
                "VIGIL_AGENT_TENANT",
                "acme",
                "VIGIL_AGENT_SAMPLE_PERIOD",
                "PT1M",
                "VIGIL_AGENT_VENDOR_KEYS",
                pins));
        values.putAll(settings);
        // The record key enrolment gives this host (the same one dispatch issued if it enrolled there).
        Devstack.shared()
                .endpoints()
                .recordKeys()
                .enrol(stateDir, values.get("VIGIL_AGENT_TENANT"), values.get("VIGIL_AGENT_HOST_ID"));
        Agent agent = new Agent(AgentConfig.load(values));
        agent.start();
        return new RunningAgent(hostId, stateDir, new Connect("test:///default"), agent);
    }

    /** A new running VM on the test hypervisor. */
    public Domain vm(String name) throws Exception {
        Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>" + name + "-"
                + UUID.randomUUID().toString().substring(0, 8)
                + "</name><memory>65536</memory><os><type>hvm</type></os></domain>");
        domain.create();
        return domain;
    }

    @Override
    public void close() throws Exception {
        agent.close();
        hypervisor.close();
    }
}
