package dev.vigil.triage.api;

import dev.vigil.agent.capture.ConvergentEncryption;
import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.CrashTriaged;
import dev.vigil.schemas.crash.IncidentTrigger;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Crash reports as ingestion sends them, with their evidence in the devstack's S3 store, and the triage outcomes
 * they lead to on the devstack's Kafka.
 */
public final class CrashFixtures {

    private CrashFixtures() {}

    static Endpoints endpoints() {
        return Devstack.shared().endpoints();
    }

    /** Stores console text as a verified artifact. */
    public static ArtifactRef console(String text) throws Exception {
        return store(text.getBytes(StandardCharsets.UTF_8), ArtifactKind.CONSOLE_TEXT, "text/plain");
    }

    /** Stores the head of a Windows dump with this STOP code as a verified memory dump. */
    public static ArtifactRef windowsDump(long bugcheck) throws Exception {
        ByteBuffer header = ByteBuffer.allocate(0x2000).order(ByteOrder.LITTLE_ENDIAN);
        header.put("PAGEDU64".getBytes(StandardCharsets.US_ASCII));
        header.putInt(0x34, 2);
        header.putInt(0x38, (int) bugcheck);
        return store(header.array(), ArtifactKind.MEMORY_DUMP, "application/vnd.microsoft.dmp");
    }

    public static ArtifactRef store(byte[] bytes, ArtifactKind kind, String format) throws Exception {
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        String key = "sha256/" + sha.substring(0, 2) + "/" + sha;
        MinioClient.builder()
                .endpoint(endpoints().s3Endpoint())
                .credentials(endpoints().s3AccessKey(), endpoints().s3SecretKey())
                .build()
                .putObject(PutObjectArgs.builder().bucket(DevstackConfig.ARTIFACTS_BUCKET).object(key).stream(
                                new ByteArrayInputStream(bytes), (long) bytes.length, -1L)
                        .build());
        return ArtifactRef.newBuilder()
                .setKind(kind)
                .setObjectKey(key)
                .setSha256(sha)
                .setSizeBytes(bytes.length)
                .setFormat(format)
                .setStatus(ArtifactStatus.VERIFIED)
                .build();
    }

    /**
     * Console text sealed as the agent seals evidence with {@code key} (VGE1), stored, with its manifest naming the
     * key as the agent's manifest would.
     */
    public static ArtifactRef sealedConsole(byte[] plain, byte[] key) throws Exception {
        Path dir = Files.createTempDirectory("vigil-sealed-");
        Path text = Files.write(dir.resolve("console.txt"), plain);
        ConvergentEncryption encryption = new ConvergentEncryption(key);
        encryption.encrypt(text, dir.resolve("console.vge1"));
        ArtifactRef stored =
                store(Files.readAllBytes(dir.resolve("console.vge1")), ArtifactKind.CONSOLE_TEXT, "text/plain");
        return ArtifactRef.newBuilder()
                .setKind(stored.getKind())
                .setObjectKey(stored.getObjectKey())
                .setSha256(stored.getSha256())
                .setSizeBytes(stored.getSizeBytes())
                .setFormat(stored.getFormat())
                .setStatus(stored.getStatus())
                .setEncryption(encryption.description())
                .build();
    }

    /** A crash on a new VM of host-1, detected now. */
    public static CrashReported report(String release, String product, ArtifactRef... artifacts) {
        return report(
                release,
                product,
                Instant.now(),
                UUID.randomUUID().toString(),
                "host-1",
                IncidentTrigger.CRASH,
                List.of(artifacts));
    }

    public static CrashReported report(
            String release,
            String product,
            Instant detectedAt,
            String vmUuid,
            String hostId,
            IncidentTrigger trigger,
            List<ArtifactRef> artifacts) {
        return report(
                release,
                product,
                detectedAt,
                vmUuid,
                hostId,
                trigger,
                artifacts,
                UUID.randomUUID().toString());
    }

    /** A report of the given incident. */
    public static CrashReported report(
            String release,
            String product,
            Instant detectedAt,
            String vmUuid,
            String hostId,
            IncidentTrigger trigger,
            List<ArtifactRef> artifacts,
            String incident) {
        return report(release, product, detectedAt, vmUuid, hostId, trigger, artifacts, incident, false);
    }

    /** A provisional report (the trigger alone, no evidence) of a new incident, as ingestion sends it first. */
    public static CrashReported provisional(
            String release, String product, Instant detectedAt, String vmUuid, String hostId) {
        return report(
                release,
                product,
                detectedAt,
                vmUuid,
                hostId,
                IncidentTrigger.CRASH,
                List.of(),
                UUID.randomUUID().toString(),
                true);
    }

    private static CrashReported report(
            String release,
            String product,
            Instant detectedAt,
            String vmUuid,
            String hostId,
            IncidentTrigger trigger,
            List<ArtifactRef> artifacts,
            String incident,
            boolean provisional) {
        Source source = Source.newBuilder()
                .setHostId(hostId)
                .setAgentId("agent-1")
                .setAgentVersion("test")
                .build();
        return CrashReported.newBuilder()
                .setEnvelope(Envelopes.create(
                        CrashReported.class, CrashReported.getClassSchema(), source, "acme", detectedAt))
                .setIncidentId(incident)
                .setVm(VmRef.newBuilder()
                        .setUuid(vmUuid)
                        .setName("beta-vm")
                        .setProduct(product)
                        .setRelease(release)
                        .build())
                .setHostId(hostId)
                .setTrigger(trigger)
                .setTriggerEventId(incident)
                .setDetectedAt(detectedAt)
                .setProduct(product)
                .setRelease(release)
                .setPanic(null)
                .setArtifacts(artifacts)
                .setComplete(!provisional && !artifacts.isEmpty())
                .setMissing(List.of())
                .setProvisional(provisional)
                .build();
    }

    /** Sends reports to {@code vigil.crash.reported.v1}, keyed by VM, in order. */
    public static void send(CrashReported... reports) {
        Properties props = new Properties();
        props.putAll(endpoints().kafkaClient());
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (CrashReported report : reports) {
                producer.send(new ProducerRecord<>(
                        TopicCatalog.CRASH_REPORTED.name(),
                        report.getVm().getUuid().toString().getBytes(StandardCharsets.UTF_8),
                        EventCodec.of(CrashReported.class).encode(report)));
            }
        }
    }

    /** The value of a dead-letter record's header, or "" without it. */
    public static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** The first record on the dead-letter topic that {@code which} accepts, read from the start, within 30 s. */
    public static ConsumerRecord<byte[], byte[]> deadLetter(Predicate<ConsumerRecord<byte[], byte[]>> which) {
        Properties props = new Properties();
        props.putAll(endpoints().kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TopicCatalog.INGESTION_DEAD_LETTER.name()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (which.test(r)) {
                        return r;
                    }
                }
            }
        }
        throw new AssertionError("no such record on " + TopicCatalog.INGESTION_DEAD_LETTER.name() + " within 30 s");
    }

    /**
     * The outcomes published for a bucket: reads {@code vigil.crash.triaged.v1} from the start until {@code done}
     * holds for what was found, and then for {@code settle} more, so a duplicate published late would be seen.
     */
    public static List<CrashTriaged> triaged(String bucketId, Predicate<List<CrashTriaged>> done, Duration settle) {
        Properties props = new Properties();
        props.putAll(endpoints().kafkaClient());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<CrashTriaged> found = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TopicCatalog.CRASH_TRIAGED.name()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long settledAt = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settledAt)) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> {
                    CrashTriaged t = EventCodec.of(CrashTriaged.class).decode(r.value());
                    if (t.getBucketId().toString().equals(bucketId)) {
                        found.add(t);
                    }
                });
                if (settledAt == Long.MAX_VALUE && done.test(found)) {
                    settledAt = System.nanoTime() + settle.toNanos();
                }
            }
        }
        return found;
    }
}
