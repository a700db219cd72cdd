package dev.vigil.ingestion;

import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentStatus;
import dev.vigil.schemas.agent.AgentStatusKind;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.agent.Crash;
import dev.vigil.schemas.agent.Lifecycle;
import dev.vigil.schemas.agent.LifecycleState;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.PanicInfo;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** What one host agent sends about a VM, built and published as the agent would: records to Kafka, blobs to S3. */
final class AgentTraffic implements AutoCloseable {

    static final String BUCKET = "vigil-artifacts";

    private final String hostId;
    private final VmRef vm;
    private final KafkaProducer<byte[], byte[]> producer;
    private final MinioClient s3;
    private final Random random = new Random();

    AgentTraffic(Endpoints endpoints, String hostId, VmRef vm) {
        this.hostId = hostId;
        this.vm = vm;
        this.producer = endpoints.agentProducer();
        this.s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
    }

    static VmRef vm(String uuid, String product, String release) {
        return VmRef.newBuilder()
                .setUuid(uuid)
                .setName("vm-" + uuid.substring(0, 8))
                .setProduct(product)
                .setRelease(release)
                .build();
    }

    Source source() {
        return Source.newBuilder()
                .setHostId(hostId)
                .setAgentId(hostId + "-agent")
                .setAgentVersion("1.4.0")
                .build();
    }

    AgentEvent lifecycle(LifecycleState state, String reason, Instant at) {
        return event(
                Lifecycle.newBuilder()
                        .setState(state)
                        .setReason(reason)
                        .setSettled(true)
                        .build(),
                at,
                vm);
    }

    AgentEvent heartbeat(Instant at) {
        return event(
                AgentStatus.newBuilder()
                        .setStatus(AgentStatusKind.HEARTBEAT)
                        .setHypervisorUri("qemu:///system")
                        .setDomainsWatched(1)
                        .build(),
                at,
                null);
    }

    /** A crash as libvirt reports it (no panic data) or as QEMU's GUEST_PANICKED does (with a STOP code). */
    AgentEvent crash(Instant at, Long bugcheck) {
        return crash(vm, at, bugcheck);
    }

    /** {@link #crash(Instant, Long)} of another VM on this host. */
    AgentEvent crash(VmRef about, Instant at, Long bugcheck) {
        PanicInfo panic = bugcheck == null
                ? null
                : PanicInfo.newBuilder()
                        .setPanicType("hyperv")
                        .setBugcheckCode(bugcheck)
                        .setBugcheckParameters(List.of(1L, 2L, 3L, 4L))
                        .build();
        return event(
                Crash.newBuilder()
                        .setReason(bugcheck == null ? "PANICKED" : "GUEST_PANICKED")
                        .setPanic(panic)
                        .build(),
                at,
                about);
    }

    AgentEvent event(SpecificRecord payload, Instant at, VmRef about) {
        return AgentEvent.newBuilder()
                .setEnvelope(Envelopes.create(AgentEvent.class, payload.getSchema(), source(), "acme", at))
                .setVm(about)
                .setPayload(payload)
                .build();
    }

    /** Uploads a random blob of {@code size} bytes and returns its manifest, naming {@code incidentId}. */
    ArtifactManifest artifact(String incidentId, ArtifactKind kind, int size, List<ArtifactKind> plan)
            throws Exception {
        return manifest(vm, incidentId, kind, store(size), plan);
    }

    /** Uploads a random blob of {@code size} bytes under this host's key for it, as the agent does before announcing it. */
    Blob store(int size) throws Exception {
        byte[] blob = new byte[size];
        random.nextBytes(blob);
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
        String key = ObjectKeys.evidence("acme", hostId, sha);
        s3.putObject(PutObjectArgs.builder().bucket(BUCKET).object(key).stream(
                        new ByteArrayInputStream(blob), (long) blob.length, -1L)
                .build());
        return new Blob(key, sha, size);
    }

    /** The manifest announcing a stored blob of {@code about}'s incident {@code incidentId}. */
    ArtifactManifest manifest(VmRef about, String incidentId, ArtifactKind kind, Blob blob, List<ArtifactKind> plan) {
        return ArtifactManifest.newBuilder()
                .setEnvelope(Envelopes.create(
                        ArtifactManifest.class, ArtifactManifest.getClassSchema(), source(), "acme", Instant.now()))
                .setVm(about)
                .setIncidentId(incidentId)
                .setKind(kind)
                .setBucket(BUCKET)
                .setObjectKey(blob.key())
                .setSha256(blob.sha256())
                .setSizeBytes(blob.size())
                .setFormat(kind == ArtifactKind.SCREENSHOT ? "png" : "application/octet-stream")
                .setCapturePlan(plan)
                .build();
    }

    void send(AgentEvent event) throws Exception {
        String key = event.getVm() == null ? hostId : event.getVm().getUuid();
        producer.send(new ProducerRecord<>(
                        TopicCatalog.AGENT_EVENTS.name(),
                        key.getBytes(StandardCharsets.UTF_8),
                        EventCodec.of(AgentEvent.class).encode(event)))
                .get();
    }

    void send(ArtifactManifest manifest) throws Exception {
        producer.send(new ProducerRecord<>(
                        TopicCatalog.AGENT_ARTIFACTS.name(),
                        manifest.getVm().getUuid().getBytes(StandardCharsets.UTF_8),
                        EventCodec.of(ArtifactManifest.class).encode(manifest)))
                .get();
    }

    @Override
    public void close() {
        producer.close();
    }

    /** A blob in the artifacts bucket: its key, SHA-256 and size. */
    record Blob(String key, String sha256, int size) {}
}
