package dev.vigil.load;

import dev.vigil.agent.Agent;
import dev.vigil.agent.config.AgentConfig;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Domains;
import dev.vigil.devstack.Endpoints;
import dev.vigil.devstack.GuestDomain;
import dev.vigil.devstack.Ports;
import dev.vigil.devstack.ServiceProcess;
import dev.vigil.devstack.StaffTokens;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.Crash;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
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
 * A crash on the real hypervisor, to its bucket: a guest (256 MiB, 1 vCPU, QEMU under TCG) panics; the host agent
 * (in this process) announces it and captures its evidence; the packaged ingestion and crash triage services
 * (processes on the devstack, with their production settings) report it and file it. For each crash, against the
 * clock of this one machine:
 *
 * <ul>
 *   <li><b>Kafka</b>, the same-run baseline: from the agent's crash event (its time) to this process's consumer;
 *       what one hop through the broker costs;
 *   <li><b>filed</b>: from the crash event to the report's row in triage's database, the moment the bucket pages
 *       show it (they read that table); provisional, by what the hypervisor said;
 *   <li><b>refined</b>: from the broker's timestamp of the capture's last manifest (its blob stored by then) to the
 *       report's row with its evidence, and from the crash event to it.
 * </ul>
 *
 * The first crashes of a run find cold services (class loading, JIT, first connections, the first bucket made):
 * they are printed but left out of the summary. Needs {@code devstack/hypervisor/setup}. Usage:
 * {@code load-tests/run CrashToBucketBenchmark [crashes (10)] [warm-up crashes (1)]}
 */
public final class CrashToBucketBenchmark {

    private static final Path INGESTION = Path.of("services/ingestion/target/quarkus-app/quarkus-run.jar");
    private static final Path TRIAGE = Path.of("services/crash-triage/target/quarkus-app/quarkus-run.jar");

    /** One crash's times, in milliseconds since the epoch; -1 when not seen. */
    private static final class Crashed {
        long event = -1;
        long heard = -1;
        long filed = -1;
        long lastManifest = -1;
        int manifests;
        int planned = -1;
        long refined = -1;
        String evidence;

        boolean done() {
            return refined >= 0 && planned >= 0 && manifests >= planned;
        }
    }

    public static void main(String[] args) throws Exception {
        int crashes = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        if (!GuestDomain.built()) {
            throw new IllegalStateException("no test guest: run devstack/hypervisor/setup first");
        }
        Path work = Files.createTempDirectory("vigil-c2b-bench-");
        try (Devstack stack = Devstack.start(DevstackConfig.forTests())) {
            Endpoints endpoints = stack.endpoints();
            int ingestionPort = Ports.free();
            int triagePort = Ports.free();
            // Both services trust this run's key; triage reads ingestion's uptime ledger with a token signed by it.
            StaffTokens keys = StaffTokens.in(work.resolve("jwt"));
            String verify = keys.publicKey().toUri().toString();
            try (ServiceProcess ingestion = ServiceProcess.start(
                            INGESTION,
                            endpoints,
                            ingestionPort,
                            Map.of("mp.jwt.verify.publickey.location", verify),
                            work.resolve("ingestion.log"));
                    ServiceProcess triage = ServiceProcess.start(
                            TRIAGE,
                            endpoints,
                            triagePort,
                            Map.of(
                                    "vigil.triage.uptime-url",
                                    "http://127.0.0.1:" + ingestionPort,
                                    "mp.jwt.verify.publickey.location",
                                    verify,
                                    "vigil.service-auth.token",
                                    keys.token("vigil-crash-triage", List.of("analyst"), Duration.ofHours(12))),
                            work.resolve("triage.log"))) {
                ingestion.awaitReady("http://127.0.0.1:" + ingestionPort, Duration.ofSeconds(120));
                // Ready means migrated and connected; the warm-up crash absorbs its consumer group's first join.
                triage.awaitReady("http://127.0.0.1:" + triagePort, Duration.ofSeconds(120));
                List<Crashed> results = new ArrayList<>();
                System.out.println("crash | Kafka ms | filed ms | last manifest ms | refined ms | refined after"
                        + " last manifest ms | evidence");
                for (int i = 1; i <= warmup + crashes; i++) {
                    Crashed c = crash(endpoints, work, i);
                    if (i > warmup) {
                        results.add(c);
                    }
                    System.out.printf(
                            "%s | %d | %d | %d | %d | %d | %s%n",
                            i > warmup ? String.valueOf(i - warmup) : "warm-up " + i,
                            c.heard - c.event,
                            c.filed - c.event,
                            c.lastManifest - c.event,
                            c.refined - c.event,
                            c.refined - c.lastManifest,
                            c.evidence);
                }
                summary(
                        "Kafka (baseline)",
                        results.stream().mapToLong(c -> c.heard - c.event).toArray());
                summary(
                        "filed",
                        results.stream().mapToLong(c -> c.filed - c.event).toArray());
                summary(
                        "refined after last manifest",
                        results.stream()
                                .mapToLong(c -> c.refined - c.lastManifest)
                                .toArray());
                summary(
                        "refined",
                        results.stream().mapToLong(c -> c.refined - c.event).toArray());
                System.out.println("service logs: " + work);
            }
        }
    }

    private static Crashed crash(Endpoints endpoints, Path work, int n) throws Exception {
        Path dir = work.resolve("crash-" + n);
        Files.createDirectories(dir);
        GuestDomain guest = new GuestDomain("c2b" + n, dir);
        guest.createDisks();
        AgentConfig config = AgentConfig.load(Map.of(
                "VIGIL_AGENT_STATE_DIR", dir.resolve("state").toString(),
                "VIGIL_AGENT_HTTP_PORT", "0",
                "VIGIL_AGENT_CONFIG_FILE", endpoints.agentConfigFile(),
                "VIGIL_AGENT_HYPERVISOR_URI", GuestDomain.URI,
                "VIGIL_AGENT_HOST_ID", "c2b-" + UUID.randomUUID(),
                "VIGIL_AGENT_S3_ENDPOINT", endpoints.s3Endpoint(),
                "VIGIL_AGENT_S3_ACCESS_KEY", endpoints.s3AccessKey(),
                "VIGIL_AGENT_S3_SECRET_KEY", endpoints.s3SecretKey()));
        endpoints.recordKeys().enrol(config.stateDir(), config.tenant(), config.hostId());
        Connect hypervisor = new Connect(GuestDomain.URI);
        Domain domain = null;
        Crashed c = new Crashed();
        Properties db = new Properties();
        db.put("user", endpoints.jdbcUser());
        try (Agent agent = new Agent(config);
                KafkaConsumer<String, byte[]> consumer = consumer(endpoints);
                Connection triage = DriverManager.getConnection(endpoints.jdbcUrl(), db);
                PreparedStatement report =
                        triage.prepareStatement("SELECT provisional, evidence FROM triage.report WHERE vm_uuid = ?")) {
            agent.start();
            domain = hypervisor.domainDefineXML(
                    guest.xml("vigil.scenario=panic vigil.delay=1", guest.overlayDisk(), ""));
            domain.create();
            String uuid = domain.getUUIDString();
            report.setString(1, uuid);
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            while (!c.done() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(5))) {
                    long now = System.currentTimeMillis();
                    if (r.topic().equals(TopicCatalog.AGENT_EVENTS.name())) {
                        AgentEvent e = EventCodec.of(AgentEvent.class).decode(r.value());
                        if (c.event < 0
                                && e.getVm() != null
                                && uuid.equals(e.getVm().getUuid().toString())
                                && e.getPayload() instanceof Crash) {
                            c.event = e.getEnvelope().getOccurredAt().toEpochMilli();
                            c.heard = now;
                        }
                    } else {
                        ArtifactManifest m =
                                EventCodec.of(ArtifactManifest.class).decode(r.value());
                        if (uuid.equals(m.getVm().getUuid().toString())) {
                            c.manifests++;
                            c.planned = m.getCapturePlan().size();
                            c.lastManifest = Math.max(c.lastManifest, r.timestamp());
                        }
                    }
                }
                try (ResultSet rs = report.executeQuery()) {
                    if (rs.next()) {
                        long now = System.currentTimeMillis();
                        if (c.filed < 0) {
                            c.filed = now;
                        }
                        if (!rs.getBoolean(1) && c.refined < 0) {
                            c.refined = now;
                            c.evidence = rs.getString(2);
                        }
                    }
                }
            }
            if (!c.done() || c.event < 0) {
                throw new IllegalStateException(
                        "crash " + n + " did not reach its bucket within 3 minutes; logs in " + work);
            }
            return c;
        } finally {
            if (domain != null) {
                Domains.remove(domain);
            }
            hypervisor.close();
        }
    }

    /** With a few crashes per run the highest is reported as it is, not as a percentile. */
    private static void summary(String what, long[] millis) {
        long[] sorted = millis.clone();
        Arrays.sort(sorted);
        System.out.printf(
                "%-30s n %d  min %d  p50 %d  p90 %d  max %d ms%n",
                what,
                sorted.length,
                sorted[0],
                sorted[sorted.length / 2],
                sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * 0.9) - 1)],
                sorted[sorted.length - 1]);
    }

    private static KafkaConsumer<String, byte[]> consumer(Endpoints endpoints) {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "c2b-bench-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(TopicCatalog.AGENT_EVENTS.name(), TopicCatalog.AGENT_ARTIFACTS.name()));
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (consumer.assignment().isEmpty() && System.nanoTime() < until) {
            consumer.poll(Duration.ofMillis(100));
        }
        return consumer;
    }
}
