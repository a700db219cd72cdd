package dev.vigil.agent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {

    @Test
    void rejectsAMissingBootstrapServerNamingTheVariable() {
        assertThatThrownBy(() -> AgentConfig.load(Map.of()))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageStartingWith("VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS is not set");
    }

    @Test
    void appliesDefaultsForOptionalKeys() {
        AgentConfig config = AgentConfig.load(Map.of("VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "broker:9092"));

        assertThat(config.hypervisorUri()).isEqualTo("test:///default");
        assertThat(config.agentId()).isEqualTo(config.hostId() + "-agent");
        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void rejectsANonPositiveHeartbeatWithTheAcceptedForms() {
        assertThatThrownBy(() -> AgentConfig.load(
                        Map.of("VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "b:1", "VIGIL_AGENT_HEARTBEAT_INTERVAL", "-5s")))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("VIGIL_AGENT_HEARTBEAT_INTERVAL=-5s")
                .hasMessageContaining("PT30S");
    }

    @Test
    void environmentOverridesTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("agent.properties");
        Files.writeString(
                file, "kafka.bootstrap.servers=file:9092\nhypervisor.uri=qemu:///system\nheartbeat-interval=PT5S\n");

        AgentConfig config = AgentConfig.load(
                Map.of("VIGIL_AGENT_CONFIG_FILE", file.toString(), "VIGIL_AGENT_KAFKA_BOOTSTRAP_SERVERS", "env:9092"));

        assertThat(config.kafkaBootstrapServers()).isEqualTo("env:9092");
        assertThat(config.hypervisorUri()).isEqualTo("qemu:///system");
        assertThat(config.heartbeatInterval()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void namesAnUnreadableFile(@TempDir Path dir) {
        Path missing = dir.resolve("absent.properties");

        assertThatThrownBy(() -> AgentConfig.load(Map.of("VIGIL_AGENT_CONFIG_FILE", missing.toString())))
                .isInstanceOf(AgentConfigException.class)
                .hasMessageContaining("VIGIL_AGENT_CONFIG_FILE=" + missing);
    }
}
