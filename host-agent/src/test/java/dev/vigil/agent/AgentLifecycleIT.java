package dev.vigil.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentSamples;
import dev.vigil.schemas.agent.AgentStatus;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.libvirt.Connect;
import org.libvirt.Domain;

/** libvirt's test hypervisor (a real libvirt, no daemon) → agent → the devstack's real Kafka. */
@ExtendWith(DevstackExtension.class)
class AgentLifecycleIT {

    @Test
    void publishesEachLifecycleTransitionWithItsReason(Endpoints endpoints) throws Exception {
        String hostId = "host-" + UUID.randomUUID();
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_STATE_DIR",
                java.nio.file.Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_CONFIG_FILE",
                endpoints.agentConfigFile(),
                "VIGIL_AGENT_HOST_ID",
                hostId,
                "VIGIL_AGENT_TENANT",
                "acme",
                "VIGIL_AGENT_HEARTBEAT_INTERVAL",
                "PT0.2S"));
        String vmName = "it-" + UUID.randomUUID().toString().substring(0, 8);
        List<ConsumerRecord<String, byte[]>> seen = new CopyOnWriteArrayList<>();

        try (Agent agent = new Agent(config)) {
            agent.start();
            Connect hypervisor = new Connect("test:///default");
            Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>" + vmName
                    + "</name><memory>65536</memory><os><type>hvm</type></os></domain>");
            domain.create();
            domain.suspend();
            domain.resume();
            domain.destroy();
            domain.create();
            domain.shutdown();
            domain.undefine();
            String uuid = domain.getUUIDString();

            try (KafkaConsumer<String, byte[]> consumer = consumer(endpoints)) {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                    assertThat(lifecycles(seen, uuid))
                            .containsSubsequence(
                                    "DEFINED/ADDED",
                                    "STARTED/BOOTED",
                                    "SUSPENDED/PAUSED",
                                    "RESUMED/UNPAUSED",
                                    "STOPPED/DESTROYED",
                                    "STARTED/BOOTED",
                                    "STOPPED/SHUTDOWN",
                                    "UNDEFINED/REMOVED");
                });
            }
            hypervisor.close();
        }
        // After a clean stop the agent has published its own STOPPING, and heartbeats before it.
        try (KafkaConsumer<String, byte[]> consumer = consumer(endpoints)) {
            seen.clear();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                assertThat(statuses(seen, hostId)).contains(AgentStatusKind.HEARTBEAT, AgentStatusKind.STOPPING);
            });
            assertThat(statuses(seen, hostId)).first().isEqualTo(AgentStatusKind.STARTED);
            assertThat(statuses(seen, hostId)).last().isEqualTo(AgentStatusKind.STOPPING);
        }

        List<AgentEvent> fromHost = seen.stream()
                .map(r -> EventCodec.of(AgentEvent.class).decode(r.value()))
                .filter(e -> e.getEnvelope().getSource().getHostId().equals(hostId))
                .toList();
        assertThat(fromHost)
                .filteredOn(e -> e.getPayload() instanceof AgentStatus)
                .first()
                .satisfies(e ->
                        assertThat(((AgentStatus) e.getPayload()).getStatus()).isEqualTo(AgentStatusKind.STARTED));
        assertThat(fromHost)
                .filteredOn(e -> e.getVm() != null && e.getVm().getName().equals("test"))
                .extracting(e -> ((Lifecycle) e.getPayload()).getReason())
                .contains("DISCOVERED");
        ConsumerRecord<String, byte[]> started = seen.stream()
                .filter(r ->
                        r.key().equals(fromHost.get(0).getEnvelope().getSource().getHostId()))
                .findFirst()
                .orElseThrow();
        assertThat(CloudEventHeaders.read(started.headers(), CloudEventHeaders.TYPE))
                .isEqualTo("dev.vigil.agent.agent-status");
        assertThat(CloudEventHeaders.read(started.headers(), CloudEventHeaders.SOURCE))
                .isEqualTo("/vigil/hosts/" + hostId + "/agents/" + hostId + "-agent");
        assertThat(CloudEventHeaders.read(started.headers(), CloudEventHeaders.SPEC_VERSION))
                .isEqualTo("1.0");
    }

    @Test
    void aSecondAgentInTheSameProcessStillReceivesEvents(Endpoints endpoints) throws Exception {
        Map<String, String> env = agentOnANewHost(endpoints);
        try (Agent first = new Agent(AgentConfig.load(env))) {
            first.start();
        }
        String vmName = "again-" + UUID.randomUUID().toString().substring(0, 8);
        List<ConsumerRecord<String, byte[]>> seen = new CopyOnWriteArrayList<>();
        try (Agent second = new Agent(AgentConfig.load(env))) {
            second.start();
            Connect hypervisor = new Connect("test:///default");
            Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>" + vmName
                    + "</name><memory>65536</memory><os><type>hvm</type></os></domain>");
            domain.create();
            String uuid = domain.getUUIDString();
            try (KafkaConsumer<String, byte[]> consumer = consumer(endpoints)) {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                    assertThat(lifecycles(seen, uuid)).contains("STARTED/BOOTED");
                });
            }
            domain.destroy();
            hypervisor.close();
        }
    }

    @Test
    void eventsAndSamplesNameTheProductAndReleaseTheImageDeclares(Endpoints endpoints) throws Exception {
        Map<String, String> env = Map.of(
                "VIGIL_AGENT_STATE_DIR",
                java.nio.file.Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_CONFIG_FILE",
                endpoints.agentConfigFile(),
                "VIGIL_AGENT_HOST_ID",
                "host-" + UUID.randomUUID(),
                "VIGIL_AGENT_SAMPLE_PERIOD",
                "PT0.2S");
        String vmName = "labelled-" + UUID.randomUUID().toString().substring(0, 8);
        Connect hypervisor = new Connect("test:///default");
        try (Agent agent = new Agent(AgentConfig.load(env));
                TopicReader<AgentEvent> events =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_EVENTS, AgentEvent.class);
                TopicReader<AgentSamples> samples =
                        new TopicReader<>(endpoints, TopicCatalog.AGENT_SAMPLES, AgentSamples.class)) {
            agent.start();
            Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>" + vmName + "</name>"
                    + "<metadata><vigil:image xmlns:vigil='urn:vigil:image:1' product='AcmeOS'"
                    + " release='12.0-beta3'/></metadata>"
                    + "<memory>65536</memory><os><type>hvm</type></os></domain>");
            domain.create();
            String uuid = domain.getUUIDString();

            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(events.poll())
                        .filteredOn(
                                e -> e.getVm() != null && e.getVm().getUuid().equals(uuid))
                        .filteredOn(
                                e -> e.getPayload() instanceof Lifecycle l && l.getState() == LifecycleState.STARTED)
                        .singleElement()
                        .satisfies(e -> assertThat(List.of(
                                        String.valueOf(e.getVm().getProduct()),
                                        String.valueOf(e.getVm().getRelease())))
                                .containsExactly("AcmeOS", "12.0-beta3"));
                assertThat(samples.poll())
                        .flatMap(AgentSamples::getVms)
                        .filteredOn(v -> v.getVm().getUuid().equals(uuid))
                        .isNotEmpty()
                        .allSatisfy(v -> assertThat(v.getVm().getRelease()).isEqualTo("12.0-beta3"));
            });
            domain.destroy();
            domain.undefine();
        } finally {
            hypervisor.close();
        }
    }

    private static List<AgentStatusKind> statuses(List<ConsumerRecord<String, byte[]>> records, String hostId) {
        return records.stream()
                .filter(r -> hostId.equals(r.key()))
                .map(r -> EventCodec.of(AgentEvent.class).decode(r.value()))
                .filter(e -> e.getPayload() instanceof AgentStatus)
                .map(e -> ((AgentStatus) e.getPayload()).getStatus())
                .toList();
    }

    @Test
    void aVmThatDisappearedWhileTheAgentWasAwayIsReportedGoneAtItsNextStart(Endpoints endpoints) throws Exception {
        // One state directory for the three starts: it is where the agent remembers its VMs.
        Map<String, String> settings = agentOnANewHost(endpoints);
        Connect hypervisor = new Connect("test:///default");
        String vmName = "gone-" + UUID.randomUUID().toString().substring(0, 8);
        Domain domain = hypervisor.domainDefineXML("<domain type='test'><name>" + vmName
                + "</name><memory>65536</memory><os><type>hvm</type></os></domain>");
        domain.create();
        String uuid = domain.getUUIDString();
        try (Agent agent = new Agent(AgentConfig.load(settings))) {
            agent.start();
        }
        // While the agent is stopped the VM goes away: no callback will ever say so.
        domain.destroy();
        domain.undefine();
        List<ConsumerRecord<String, byte[]>> seen = new CopyOnWriteArrayList<>();
        try (Agent agent = new Agent(AgentConfig.load(settings));
                KafkaConsumer<String, byte[]> consumer = consumer(endpoints)) {
            agent.start();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                assertThat(lifecycles(seen, uuid)).containsSubsequence("STARTED/DISCOVERED", "UNDEFINED/VANISHED");
            });
        }
        // Reported once: a third start has nothing to say about it.
        try (Agent agent = new Agent(AgentConfig.load(settings))) {
            agent.start();
        }
        try (KafkaConsumer<String, byte[]> consumer = consumer(endpoints)) {
            seen.clear();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                assertThat(lifecycles(seen, uuid)).contains("UNDEFINED/VANISHED");
            });
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
                return lifecycles(seen, uuid).stream()
                                .filter("UNDEFINED/VANISHED"::equals)
                                .count()
                        == 1;
            });
            assertThat(lifecycles(seen, uuid)).containsOnlyOnce("UNDEFINED/VANISHED");
        }
        hypervisor.close();
    }

    /** An agent's settings: a new host id and a new state directory, the devstack's Kafka, no HTTP port. */
    private static Map<String, String> agentOnANewHost(Endpoints endpoints) throws java.io.IOException {
        return Map.of(
                "VIGIL_AGENT_STATE_DIR",
                java.nio.file.Files.createTempDirectory("vigil-agent-").toString(),
                "VIGIL_AGENT_HTTP_PORT",
                "0",
                "VIGIL_AGENT_CONFIG_FILE",
                endpoints.agentConfigFile(),
                "VIGIL_AGENT_HOST_ID",
                "host-" + UUID.randomUUID());
    }

    private static List<String> lifecycles(List<ConsumerRecord<String, byte[]>> records, String uuid) {
        return records.stream()
                .filter(r -> uuid.equals(r.key()))
                .map(r -> EventCodec.of(AgentEvent.class).decode(r.value()))
                .map(e -> (Lifecycle) e.getPayload())
                .map(l -> l.getState() + "/" + l.getReason())
                .toList();
    }

    private static KafkaConsumer<String, byte[]> consumer(Endpoints endpoints) {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "agent-it-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(TopicCatalog.AGENT_EVENTS.name()));
        return consumer;
    }
}
