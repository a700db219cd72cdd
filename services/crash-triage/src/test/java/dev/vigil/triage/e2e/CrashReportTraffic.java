package dev.vigil.triage.e2e;

import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.PanicInfo;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import dev.vigil.schemas.crash.ArtifactRef;
import dev.vigil.schemas.crash.ArtifactStatus;
import dev.vigil.schemas.crash.CrashReported;
import dev.vigil.schemas.crash.IncidentTrigger;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Ingestion's side of crash triage, at a steady rate: for each incident of a fresh VM the provisional report (the
 * hypervisor's STOP code alone) and then the report with its evidence (a Windows dump whose header has that code), as
 * ingestion publishes them. Each record is sent again until the broker acknowledges it; only acknowledged incidents
 * count as published.
 */
final class CrashReportTraffic implements AutoCloseable {

    // STOP codes triage names: each is a bucket of its own.
    private static final List<Long> BUGCHECKS = List.of(0x50L, 0x7EL, 0xD1L, 0x1EL);
    private static final long RETRY_MILLIS = 500;

    private final KafkaProducer<byte[], byte[]> producer;
    private final Map<Long, ArtifactRef> dumps = new ConcurrentHashMap<>();
    private final Set<String> incidents = ConcurrentHashMap.newKeySet();
    private final AtomicLong resends = new AtomicLong();
    private final ExecutorService sender = Executors.newSingleThreadExecutor();
    private final long pauseMillis;
    private volatile boolean running;

    /** About {@code perSecond} incidents a second, two reports each. */
    CrashReportTraffic(Endpoints endpoints, int perSecond) throws Exception {
        Properties props = new Properties();
        props.putAll(endpoints.kafkaClient());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.pauseMillis = 1000L / perSecond;
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        for (long bugcheck : BUGCHECKS) {
            dumps.put(bugcheck, windowsDump(s3, bugcheck));
        }
    }

    void start() {
        running = true;
        sender.submit(this::publish);
    }

    void stop() throws InterruptedException {
        running = false;
        sender.shutdown();
        sender.awaitTermination(3, TimeUnit.MINUTES);
    }

    /** Incidents whose two reports the broker acknowledged. */
    Set<String> incidents() {
        return Set.copyOf(incidents);
    }

    long resends() {
        return resends.get();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        sender.shutdownNow();
        sender.awaitTermination(30, TimeUnit.SECONDS);
        producer.close();
    }

    private void publish() {
        long n = 0;
        while (running) {
            long bugcheck = BUGCHECKS.get((int) (n++ % BUGCHECKS.size()));
            String incident = UUID.randomUUID().toString();
            String vm = UUID.randomUUID().toString();
            String host = "fault-host-" + (n % 5);
            Instant detected = Instant.now();
            sendUntilAcked(vm, report(incident, vm, host, detected, bugcheck, List.of(), true));
            sendUntilAcked(vm, report(incident, vm, host, detected, bugcheck, List.of(dumps.get(bugcheck)), false));
            incidents.add(incident);
            pause(pauseMillis);
        }
    }

    private void sendUntilAcked(String vm, CrashReported report) {
        byte[] value = EventCodec.of(CrashReported.class).encode(report);
        while (true) {
            try {
                producer.send(new ProducerRecord<>(
                                TopicCatalog.CRASH_REPORTED.name(), vm.getBytes(StandardCharsets.UTF_8), value))
                        .get();
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("traffic stopped", e);
            } catch (Exception e) {
                // Not acknowledged (the broker is down): the same record goes again, as ingestion's producer would.
                resends.incrementAndGet();
                pause(RETRY_MILLIS);
            }
        }
    }

    private static CrashReported report(
            String incident,
            String vm,
            String host,
            Instant detected,
            long bugcheck,
            List<ArtifactRef> artifacts,
            boolean provisional) {
        Source source = Source.newBuilder()
                .setHostId(host)
                .setAgentId(host + "-agent")
                .setAgentVersion("1.4.0")
                .build();
        return CrashReported.newBuilder()
                .setEnvelope(
                        Envelopes.create(CrashReported.class, CrashReported.getClassSchema(), source, "acme", detected))
                .setIncidentId(incident)
                .setVm(VmRef.newBuilder()
                        .setUuid(vm)
                        .setName("vm-" + vm.substring(0, 8))
                        .setProduct("AcmeOS")
                        .setRelease("12.1")
                        .build())
                .setHostId(host)
                .setTrigger(IncidentTrigger.CRASH)
                .setTriggerEventId(incident)
                .setDetectedAt(detected)
                .setProduct("AcmeOS")
                .setRelease("12.1")
                .setPanic(PanicInfo.newBuilder()
                        .setPanicType("hyperv")
                        .setBugcheckCode(bugcheck)
                        .setBugcheckParameters(List.of(1L, 2L, 3L, 4L))
                        .build())
                .setArtifacts(artifacts)
                .setComplete(!provisional)
                .setMissing(List.of())
                .setProvisional(provisional)
                .build();
    }

    /** The head of a Windows dump with this STOP code, stored under its SHA-256 as an agent stores it. */
    private static ArtifactRef windowsDump(MinioClient s3, long bugcheck) throws Exception {
        ByteBuffer header = ByteBuffer.allocate(0x2000).order(ByteOrder.LITTLE_ENDIAN);
        header.put("PAGEDU64".getBytes(StandardCharsets.US_ASCII));
        header.putInt(0x34, 2);
        header.putInt(0x38, (int) bugcheck);
        byte[] bytes = header.array();
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        String key = "sha256/" + sha.substring(0, 2) + "/" + sha;
        s3.putObject(PutObjectArgs.builder().bucket(DevstackConfig.ARTIFACTS_BUCKET).object(key).stream(
                        new ByteArrayInputStream(bytes), (long) bytes.length, -1L)
                .build());
        return ArtifactRef.newBuilder()
                .setKind(ArtifactKind.MEMORY_DUMP)
                .setObjectKey(key)
                .setSha256(sha)
                .setSizeBytes(bytes.length)
                .setFormat("application/vnd.microsoft.dmp")
                .setStatus(ArtifactStatus.VERIFIED)
                .build();
    }

    private static void pause(long millis) {
        try {
            // Pacing of the load, not synchronisation.
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("traffic stopped", e);
        }
    }
}
