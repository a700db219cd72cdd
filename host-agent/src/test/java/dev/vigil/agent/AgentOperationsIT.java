package dev.vigil.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.Ports;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.ConnectionState;
import dev.vigil.schemas.agent.ConnectionStatus;
import dev.vigil.schemas.agent.Hang;
import dev.vigil.schemas.agent.HangDetector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.libvirt.Connect;
import org.libvirt.Domain;

/** Sampling, hypervisor reconnection and the local health/metrics endpoint, against the devstack's Kafka. */
@ExtendWith(DevstackExtension.class)
class AgentOperationsIT {

    @Test
    void publishesSamplesOfEveryVmAndTheHost(Endpoints endpoints) throws Exception {
        String hostId = "sampling-" + UUID.randomUUID();
        try (Agent agent = new Agent(config(endpoints, hostId, "0"));
                TopicReader<AgentSamples> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_SAMPLES, AgentSamples.class)) {
            agent.start();
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(reader.poll())
                            .filteredOn(
                                    s -> s.getEnvelope().getSource().getHostId().equals(hostId))
                            .hasSizeGreaterThanOrEqualTo(2)
                            .first()
                            .satisfies(s -> {
                                assertThat(s.getVms()).anySatisfy(vm -> {
                                    assertThat(vm.getVm().getName()).isEqualTo("test");
                                    assertThat(vm.getState()).isEqualTo("RUNNING");
                                    assertThat(vm.getCpuTimeNanos()).isNotNull();
                                });
                                assertThat(s.getHost()).isNotNull();
                                assertThat(s.getPeriodMillis()).isEqualTo(300);
                            }));
        }
    }

    @Test
    void reportsAVmBusyBehindAFrozenScreenAsHung(Endpoints endpoints) throws Exception {
        String hostId = "frozen-" + UUID.randomUUID();
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile(),
                "VIGIL_AGENT_STATE_DIR",
                        Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT", "0",
                "VIGIL_AGENT_HOST_ID", hostId,
                "VIGIL_AGENT_SAMPLE_PERIOD", "PT0.2S",
                "VIGIL_AGENT_FRAME_CHECK_PERIOD", "PT0.2S",
                "VIGIL_AGENT_HANG_AFTER", "PT1S"));
        Connect hypervisor = new Connect("test:///default");
        // The test hypervisor's vCPU time runs with the clock (busy) and its screen is a fixed image (frozen).
        Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>frozen-"
                + UUID.randomUUID().toString().substring(0, 8)
                + "</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>");
        domain.create();
        String uuid = domain.getUUIDString();
        try (Agent agent = new Agent(config);
                TopicReader<AgentEvent> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class)) {
            agent.start();
            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(reader.poll())
                            .filteredOn(
                                    e -> e.getEnvelope().getSource().getHostId().equals(hostId))
                            .filteredOn(e -> e.getPayload() instanceof Hang)
                            .filteredOn(e -> e.getVm().getUuid().equals(uuid))
                            .singleElement()
                            .satisfies(e -> {
                                assertThat(((Hang) e.getPayload()).getDetector())
                                        .isEqualTo(HangDetector.FRAME_FROZEN);
                                // The test hypervisor has no guest agent to answer for the guest.
                                assertThat(((Hang) e.getPayload()).getDetail()).contains("guest agent is silent");
                                assertThat(((Hang) e.getPayload()).getStalledMillis())
                                        .isGreaterThanOrEqualTo(1000L);
                            }));
        } finally {
            domain.destroy();
            hypervisor.close();
        }
    }

    @Test
    void reportsALostHypervisorConnectionAndReconnects(Endpoints endpoints) throws Exception {
        String hostId = "reconnect-" + UUID.randomUUID();
        try (Agent agent = new Agent(config(endpoints, hostId, "0"));
                TopicReader<AgentEvent> reader =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class)) {
            agent.start();
            agent.dropHypervisorConnection();

            await().atMost(Duration.ofSeconds(30))
                    .untilAsserted(() -> assertThat(reader.poll())
                            .filteredOn(
                                    e -> e.getEnvelope().getSource().getHostId().equals(hostId))
                            .filteredOn(e -> e.getPayload() instanceof ConnectionStatus)
                            .extracting(e -> ((ConnectionStatus) e.getPayload()).getState())
                            .containsExactly(ConnectionState.LOST, ConnectionState.RESTORED));
            assertThat(agent.hypervisorConnected()).isTrue();
        }
    }

    @Test
    void servesHealthAndPrometheusMetricsOnLoopback(Endpoints endpoints) throws Exception {
        int port = Ports.free();
        try (Agent agent = new Agent(config(endpoints, "http-" + UUID.randomUUID(), String.valueOf(port)))) {
            agent.start();
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> health = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"").contains("\"hypervisor\":true");

            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                String metrics = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
                assertThat(metrics).contains("vigil_agent_events_captured_total{lane=\"EVIDENCE\"}");
                assertThat(metrics).contains("vigil_agent_spool_bytes{lane=\"SAMPLES\"}");
                assertThat(metrics).containsPattern("vigil_agent_published_total [1-9]");
            });
        }
    }

    private static AgentConfig config(Endpoints endpoints, String hostId, String httpPort) throws Exception {
        return AgentConfig.load(Map.of(
                "VIGIL_AGENT_CONFIG_FILE",
                endpoints.agentConfigFile(),
                "VIGIL_AGENT_STATE_DIR",
                Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                httpPort,
                "VIGIL_AGENT_HOST_ID",
                hostId,
                "VIGIL_AGENT_SAMPLE_PERIOD",
                "PT0.3S"));
    }
}
