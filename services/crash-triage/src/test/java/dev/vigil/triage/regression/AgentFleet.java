package dev.vigil.triage.regression;

import static org.awaitility.Awaitility.await;

import dev.vigil.devstack.Devstack;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentStatus;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import io.restassured.RestAssured;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * One host agent's traffic about VMs of one product release, published to {@code vigil.agent.events.v1} as the agent
 * publishes it (Avro {@code AgentEvent}s keyed by VM, or by host for its status): the VMs start at a time in the past
 * and the host's heartbeats follow every five minutes (ingestion's default {@code uptime-max-gap}), so the real
 * ingestion service credits them VM-hours in its uptime ledger.
 */
final class AgentFleet {

    /** How often the agent reports its status; ingestion credits silence up to five minutes. */
    static final Duration HEARTBEAT = Duration.ofMinutes(5);

    private final String hostId = "host-" + UUID.randomUUID();
    private final List<VmRef> vms = new ArrayList<>();
    private Instant heardUntil;

    /** {@code count} VMs of the release on a new host. */
    AgentFleet(String product, String release, int count) {
        for (int i = 0; i < count; i++) {
            String uuid = UUID.randomUUID().toString();
            vms.add(VmRef.newBuilder()
                    .setUuid(uuid)
                    .setName("vm-" + uuid.substring(0, 8))
                    .setProduct(product)
                    .setRelease(release)
                    .build());
        }
    }

    /** The VMs start at {@code at}; returns once ingestion lists every one of them as running. */
    AgentFleet start(Instant at) {
        List<AgentEvent> events = new ArrayList<>();
        for (VmRef vm : vms) {
            events.add(event(
                    Lifecycle.newBuilder()
                            .setState(LifecycleState.STARTED)
                            .setReason("BOOTED")
                            .setSettled(true)
                            .build(),
                    at,
                    vm));
        }
        publish(events);
        heardUntil = at;
        // Heartbeats are keyed by host, the starts by VM: other partitions, so wait until every start is in.
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(300))
                .until(() -> vms.stream().allMatch(vm -> running(vm.getUuid())));
        return this;
    }

    /** The host reports every five minutes until {@code until}, which is in the past. */
    AgentFleet heartbeatsUntil(Instant until) {
        List<AgentEvent> events = new ArrayList<>();
        for (Instant t = heardUntil.plus(HEARTBEAT); !t.isAfter(until); t = t.plus(HEARTBEAT)) {
            events.add(event(
                    AgentStatus.newBuilder()
                            .setStatus(AgentStatusKind.HEARTBEAT)
                            .setHypervisorUri("qemu:///system")
                            .setDomainsWatched(vms.size())
                            .build(),
                    t,
                    null));
            heardUntil = t;
        }
        publish(events);
        return this;
    }

    /** The release's VM-hours from ingestion's uptime API over the last 365 days. */
    static double vmHours(String product, String release) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        return RestAssured.given()
                .queryParam("product", product)
                .queryParam("release", release)
                .queryParam("from", today.minusDays(365).toString())
                .queryParam("to", today.toString())
                .get(ingestion() + "/api/v1/fleet/uptime")
                .then()
                .statusCode(200)
                .extract()
                .jsonPath()
                .getList("vmHours", Double.class)
                .stream()
                .mapToDouble(Double::doubleValue)
                .sum();
    }

    /** Waits until ingestion's ledger holds exactly {@code hours} for the release. */
    static void awaitVmHours(String product, String release, double hours) {
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500))
                .until(() -> vmHours(product, release) == hours);
    }

    private static boolean running(String vmUuid) {
        var response = RestAssured.given().get(ingestion() + "/api/v1/vms/" + vmUuid);
        return response.statusCode() == 200 && response.jsonPath().getBoolean("running");
    }

    private static String ingestion() {
        return ConfigProvider.getConfig().getValue("vigil.triage.uptime-url", String.class);
    }

    private AgentEvent event(SpecificRecord payload, Instant at, VmRef vm) {
        Source source = Source.newBuilder()
                .setHostId(hostId)
                .setAgentId(hostId + "-agent")
                .setAgentVersion("1.4.0")
                .build();
        return AgentEvent.newBuilder()
                .setEnvelope(Envelopes.create(AgentEvent.class, payload.getSchema(), source, "acme", at))
                .setVm(vm)
                .setPayload(payload)
                .build();
    }

    private void publish(List<AgentEvent> events) {
        Properties props = new Properties();
        props.put(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                Devstack.shared().endpoints().kafkaBootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (AgentEvent e : events) {
                String key = e.getVm() == null ? hostId : e.getVm().getUuid();
                RecordHeaders headers = new RecordHeaders();
                CloudEventHeaders.write(headers, e.getEnvelope());
                producer.send(new ProducerRecord<>(
                        TopicCatalog.AGENT_EVENTS.name(),
                        null,
                        key.getBytes(StandardCharsets.UTF_8),
                        EventCodec.of(AgentEvent.class).encode(e),
                        headers));
            }
            producer.flush();
        }
    }
}
