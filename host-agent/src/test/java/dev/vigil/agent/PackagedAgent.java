package dev.vigil.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.devstack.Endpoints;
import java.nio.file.Path;
import java.util.Map;

/** The packaged agent jar as its own process, for tests that kill it ({@code kill -9}) and start it again. */
public final class PackagedAgent {

    private PackagedAgent() {}

    /** Starts the agent on {@code state} against the stack, with {@code extra} settings; its output goes to agent.log. */
    public static Process start(Endpoints endpoints, Path state, String hostId, Map<String, String> extra)
            throws Exception {
        Path jar = Path.of("target", "vigil-host-agent.jar");
        assertThat(jar).as("the packaged agent (failsafe runs after package)").exists();
        ProcessBuilder builder = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        state.resolve("agent.log").toFile()));
        Map<String, String> env = builder.environment();
        env.put("VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile());
        env.put("VIGIL_AGENT_STATE_DIR", state.toString());
        env.put("VIGIL_AGENT_HTTP_PORT", "0");
        env.put("VIGIL_AGENT_HOST_ID", hostId);
        env.put("VIGIL_AGENT_SAMPLE_PERIOD", "3600");
        env.putAll(extra);
        // The record key enrolment would have given this host, so that ingestion keeps its records.
        endpoints.recordKeys().enrol(state, env.getOrDefault("VIGIL_AGENT_TENANT", "default"), hostId);
        return builder.start();
    }
}
