package dev.vigil.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Domains;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.common.ArtifactKind;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.libvirt.Connect;
import org.libvirt.Domain;

/**
 * Crash capture on the real hypervisor, measured by the agent itself: a guest (256 MiB, 1 vCPU, QEMU under TCG)
 * writes to its disk and panics, and the agent captures it under each memory dump policy. For each capture: the
 * time of each step from the capture's own report, the dump's size, and the time from the panic to the last
 * manifest on Kafka (every blob stored in S3 by then). Needs {@code devstack/hypervisor/setup}.
 *
 * <p>Usage: {@code load-tests/run CaptureBenchmark [runs per policy (3)]}
 */
public final class CaptureBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        if (!GuestDomain.built()) {
            throw new IllegalStateException("no test guest: run devstack/hypervisor/setup first");
        }
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            Endpoints endpoints = stack.endpoints();
            System.out.println(
                    "policy | run | capture ms | dump ms | dump bytes | format | delta ms | panic→last manifest ms");
            for (String policy : List.of("kernel", "full", "none")) {
                for (int run = 1; run <= runs; run++) {
                    measure(endpoints, policy, run);
                }
            }
        }
    }

    private static void measure(Endpoints endpoints, String policy, int run) throws Exception {
        Path dir = Files.createTempDirectory("vigil-capture-bench-");
        GuestDomain guest = new GuestDomain("bench", dir);
        guest.createDisks();
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_STATE_DIR", dir.resolve("state").toString(),
                "VIGIL_AGENT_HTTP_PORT", "0",
                "VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile(),
                "VIGIL_AGENT_HYPERVISOR_URI", GuestDomain.URI,
                "VIGIL_AGENT_HOST_ID", "bench-" + UUID.randomUUID(),
                "VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint(),
                "VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey(),
                "VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey(),
                "VIGIL_AGENT_DUMP_POLICY", "crash=" + policy));
        Connect connect = new Connect(GuestDomain.URI);
        Domain domain = null;
        try (Agent agent = new Agent(config);
                KafkaConsumer<String, byte[]> consumer = consumer(endpoints)) {
            agent.start();
            domain = connect.domainDefineXML(
                    guest.xml("vigil.scenario=panic vigil.delay=1 vigil.write=100:256:171", guest.overlayDisk(), ""));
            domain.create();
            String uuid = domain.getUUIDString();
            List<ArtifactManifest> manifests = new ArrayList<>();
            Instant lastArrival = null;
            int expected = -1;
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while ((expected < 0 || manifests.size() < expected) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    ArtifactManifest m = EventCodec.of(ArtifactManifest.class).decode(r.value());
                    if (uuid.equals(m.getVm().getUuid().toString())) {
                        manifests.add(m);
                        lastArrival = Instant.ofEpochMilli(r.timestamp());
                        expected = m.getCapturePlan().size();
                    }
                }
            }
            if (expected < 0 || manifests.size() < expected) {
                throw new IllegalStateException("capture of " + guest.name() + " did not complete");
            }
            ArtifactManifest recorder = find(manifests, ArtifactKind.FLIGHT_RECORDER);
            String text = new String(fetch(endpoints, recorder));
            JsonNode report = JSON.readTree(text.lines().reduce((a, b) -> b).orElseThrow())
                    .path("capture");
            long dumpMillis = stepMillis(report, "memory-dump");
            long deltaMillis = stepMillis(report, "disk-delta");
            ArtifactManifest dump = manifests.stream()
                    .filter(m -> m.getKind() == ArtifactKind.MEMORY_DUMP)
                    .findFirst()
                    .orElse(null);
            Instant panic = recorder.getEnvelope().getOccurredAt();
            System.out.printf(
                    "%s | %d | %d | %s | %s | %s | %d | %d%n",
                    policy,
                    run,
                    report.path("tookMillis").asLong(),
                    dumpMillis < 0 ? "-" : String.valueOf(dumpMillis),
                    dump == null ? "-" : String.format("%,d", dump.getSizeBytes()),
                    dump == null ? "-" : dump.getFormat(),
                    deltaMillis,
                    Duration.between(panic, lastArrival).toMillis());
        } finally {
            if (domain != null) {
                Domains.remove(domain);
            }
            connect.close();
            Devstack.deleteTree(dir);
        }
    }

    private static long stepMillis(JsonNode report, String step) {
        for (JsonNode s : report.path("steps")) {
            if (step.equals(s.path("step").asText())
                    && "ok".equals(s.path("outcome").asText())) {
                return s.path("millis").asLong();
            }
        }
        return -1;
    }

    private static ArtifactManifest find(List<ArtifactManifest> manifests, ArtifactKind kind) {
        return manifests.stream().filter(m -> m.getKind() == kind).findFirst().orElseThrow();
    }

    private static byte[] fetch(Endpoints endpoints, ArtifactManifest manifest) throws Exception {
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        try (InputStream in = s3.getObject(GetObjectArgs.builder()
                .bucket(manifest.getBucket().toString())
                .object(manifest.getObjectKey().toString())
                .build())) {
            return in.readAllBytes();
        }
    }

    private static KafkaConsumer<String, byte[]> consumer(Endpoints endpoints) {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "capture-bench-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(TopicCatalog.AGENT_ARTIFACTS.name()));
        consumer.poll(Duration.ofMillis(500));
        return consumer;
    }
}
