package dev.vigil.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.Lifecycle;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;

/** The broker goes away mid-stream and comes back: the spool grows, then drains, and nothing captured is lost. */
class BrokerOutageIT {

    private static Devstack stack;
    private static DevstackConfig config;

    @BeforeAll
    static void startOwnStack() {
        config = DevstackConfig.forTests().keepingData();
        stack = Devstack.start(config);
    }

    @AfterAll
    static void stopOwnStack() {
        stack.close();
        Devstack.deleteTree(config.workDir());
    }

    @Test
    void everyEventCapturedDuringAnOutageArrivesAfterIt() throws Exception {
        AgentConfig agentConfig = AgentConfig.load(Map.of(
                "VIGIL_AGENT_CONFIG_FILE",
                stack.endpoints().agentConfigFile(),
                "VIGIL_AGENT_STATE_DIR",
                Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_HOST_ID",
                "outage-" + UUID.randomUUID(),
                "VIGIL_AGENT_DELIVERY_TIMEOUT",
                "PT3S"));
        Connect hypervisor = new Connect("test:///default");
        Domain before = define(hypervisor, "before");
        try (Agent agent = new Agent(agentConfig)) {
            agent.start();
            before.create();
            try (TopicReader<AgentEvent> reader =
                    new TopicReader<>(stack.endpoints(), TopicCatalog.AGENT_EVENTS, AgentEvent.class)) {
                await().atMost(Duration.ofSeconds(30))
                        .until(() -> transitions(reader.poll(), before.getUUIDString())
                                .contains("STARTED/BOOTED"));
            }

            stack.stopKafka();
            before.suspend();
            before.resume();
            before.destroy();
            Domain during = define(hypervisor, "during");
            during.create();
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> !agent.publisher().connected());
            assertThat(agent.spool().drained()).isFalse();
            assertThat(agent.spool().bytes()).isPositive();

            stack.startKafka();
            try (TopicReader<AgentEvent> reader =
                    new TopicReader<>(stack.endpoints(), TopicCatalog.AGENT_EVENTS, AgentEvent.class)) {
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    List<AgentEvent> events = reader.poll();
                    assertThat(transitions(events, before.getUUIDString()))
                            .containsSubsequence(
                                    "STARTED/BOOTED", "SUSPENDED/PAUSED", "RESUMED/UNPAUSED", "STOPPED/DESTROYED");
                    assertThat(transitions(events, during.getUUIDString())).contains("DEFINED/ADDED", "STARTED/BOOTED");
                });
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> agent.spool().drained());
            assertThat(agent.publisher().failureCount()).isPositive();
            during.destroy();
        } finally {
            hypervisor.close();
        }
    }

    private static Domain define(Connect hypervisor, String prefix) throws Exception {
        return hypervisor.domainDefineXML("<domain type='test'><name>" + prefix + "-"
                + UUID.randomUUID().toString().substring(0, 8)
                + "</name><memory>65536</memory><os><type>hvm</type></os></domain>");
    }

    static List<String> transitions(List<AgentEvent> events, String vmUuid) {
        return events.stream()
                .filter(e -> e.getVm() != null && vmUuid.equals(e.getVm().getUuid()))
                .filter(e -> e.getPayload() instanceof Lifecycle)
                .map(e -> ((Lifecycle) e.getPayload()).getState() + "/" + ((Lifecycle) e.getPayload()).getReason())
                .toList();
    }
}
