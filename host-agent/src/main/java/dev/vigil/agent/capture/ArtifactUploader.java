package dev.vigil.agent.capture;

import dev.vigil.agent.delivery.DispatchConnection;
import dev.vigil.agent.spool.EventCapture;
import dev.vigil.agent.spool.Lane;
import dev.vigil.schemas.Envelopes;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.ArtifactManifest;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.Envelope;
import dev.vigil.schemas.common.Source;
import dev.vigil.schemas.common.VmRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Moves staged artifacts to the object store and announces each one. An object's key is under this host's prefix and
 * named by the SHA-256 of its stored bytes ({@link ObjectKeys}), so a blob stored before is not sent again; large
 * blobs go in 16 MiB parts. A multipart upload resumes from the last part the store holds ({@link ResumableUpload}),
 * after a restart too. An enrolled host stores through links dispatch signs for it ({@link LinkStore}) and holds no
 * store credentials; a host trusted with credentials writes with them ({@link DirectStore}).
 * The manifest is spooled (fsynced) only after the store has the whole object, and the staged files are removed
 * only after that: a restart or an outage at any point repeats a step, never skips one. A manifest's event id is
 * derived from its incident and kind, so a repeated announcement is deduplicated downstream. A screenshot attached to
 * user feedback goes the same way but is stored as attached and announced by nothing: its feedback record already
 * names the key.
 */
public final class ArtifactUploader implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(ArtifactUploader.class.getName());
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final ArtifactStage stage;
    private final EvidenceStore store;
    private final ConvergentEncryption encryption;
    private final EventCapture capture;
    private final Source source;
    private final String tenant;
    private final Thread thread;
    private final Object wake = new Object();
    private final AtomicLong uploaded = new AtomicLong();
    private final AtomicLong uploadedBytes = new AtomicLong();
    private final AtomicLong deduplicated = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile boolean running = true;
    private boolean woken;

    /**
     * @param stateDir where this host's enrolment (its host token) is, for upload links
     * @param dispatchUrl dispatch's address, for upload links
     */
    public ArtifactUploader(
            ArtifactStage stage,
            CaptureSettings settings,
            Path stateDir,
            String dispatchUrl,
            EventCapture capture,
            Source source,
            String tenant) {
        this.stage = stage;
        this.store = settings.uploadLinks()
                ? new LinkStore(
                        new DispatchConnection(dispatchUrl, null, Duration.ofSeconds(1)),
                        LinkStore.HostToken.enrolment(stateDir))
                : new DirectStore(
                        settings.s3Endpoint(), settings.s3AccessKey(), settings.s3SecretKey(), settings.bucket());
        this.encryption = settings.encryptionKey() == null ? null : new ConvergentEncryption(settings.encryptionKey());
        this.capture = capture;
        this.source = source;
        this.tenant = tenant;
        this.thread = new Thread(this::run, "vigil-agent-artifact-upload");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Asks the uploader to look at the stage now (a capture just committed). */
    public void wake() {
        synchronized (wake) {
            woken = true;
            wake.notifyAll();
        }
    }

    public long uploadedCount() {
        return uploaded.get();
    }

    public long uploadedBytes() {
        return uploadedBytes.get();
    }

    public long deduplicatedCount() {
        return deduplicated.get();
    }

    public long failureCount() {
        return failures.get();
    }

    private void run() {
        long backoffMillis = 500;
        while (running) {
            boolean failed = false;
            try {
                List<StagedArtifact> pending = stage.pending();
                for (StagedArtifact artifact : pending) {
                    if (!running) {
                        return;
                    }
                    if (!stage.staged(artifact)) {
                        // Nothing can ever be uploaded for it; the artifacts after it must not wait on it.
                        stage.setAside(artifact);
                        LOG.log(
                                System.Logger.Level.ERROR,
                                "the staged file of " + artifact.kind() + " of " + artifact.incidentId()
                                        + " is gone: its ticket is set aside as .orphaned");
                        continue;
                    }
                    deliver(artifact);
                }
            } catch (IOException | RuntimeException e) {
                failed = true;
                failures.incrementAndGet();
                LOG.log(
                        System.Logger.Level.WARNING,
                        "artifact upload failed, retrying in " + backoffMillis + " ms: " + e.getMessage());
            }
            synchronized (wake) {
                if (!woken && running) {
                    try {
                        wake.wait(failed ? backoffMillis : 5_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                woken = false;
            }
            backoffMillis = failed ? Math.min(backoffMillis * 2, MAX_BACKOFF.toMillis()) : 500;
        }
    }

    /** Uploads, announces and removes one staged artifact. */
    void deliver(StagedArtifact artifact) throws IOException {
        // Feedback names its screenshot by the hash of the picture, and analysts open it as taken.
        boolean feedback = artifact.announcedBy() == StagedArtifact.Announcement.FEEDBACK;
        String what = feedback
                ? "the screenshot of feedback " + artifact.incidentId()
                : artifact.kind() + " of incident " + artifact.incidentId();
        Path blob = stage.blob(artifact);
        Path stored = blob;
        if (encryption != null && !feedback) {
            stored = stage.derived(artifact, ".sealed");
            if (!Files.exists(stored)) {
                Path tmp = stage.derived(artifact, ".sealing");
                encryption.encrypt(blob, tmp);
                Files.move(tmp, stored, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
        }
        String sha256 = HexFormat.of().formatHex(ConvergentEncryption.sha256(stored));
        long size = Files.size(stored);
        String key = ObjectKeys.evidence(tenant, source.getHostId().toString(), sha256);
        EvidenceStore.Stored put;
        try {
            put = store.put(stored, key, sha256, contentType(artifact.format()), stage.derived(artifact, ".upload"));
        } catch (IOException e) {
            throw new IOException(
                    "storing " + what + " in " + store.describe() + " (a large one resumes from the last stored part): "
                            + e.getMessage(),
                    e);
        }
        boolean known = put.known();
        if (known) {
            deduplicated.incrementAndGet();
        } else {
            uploadedBytes.addAndGet(put.sentBytes());
        }
        if (!feedback) {
            ArtifactManifest manifest = manifest(artifact, put.bucket(), key, sha256, size);
            capture.capture(Lane.EVIDENCE, TopicCatalog.AGENT_ARTIFACTS, artifact.vmUuid(), manifest);
        }
        stage.remove(artifact);
        uploaded.incrementAndGet();
        LOG.log(
                System.Logger.Level.INFO,
                (known ? "the store already had " : "stored ") + what + " (" + size + " bytes) as " + key);
    }

    ArtifactManifest manifest(StagedArtifact artifact, String bucket, String key, String sha256, long size) {
        // Avro's deep copy (newBuilder(other)) is avoided: it resolves classes through a class loader of its own.
        Envelope envelope = Envelopes.create(
                ArtifactManifest.class,
                ArtifactManifest.getClassSchema(),
                source,
                tenant,
                Instant.ofEpochMilli(artifact.capturedAtMillis()),
                UUID.nameUUIDFromBytes(("artifact:" + artifact.incidentId() + ":" + artifact.kind())
                                .getBytes(StandardCharsets.UTF_8))
                        .toString());
        return ArtifactManifest.newBuilder()
                .setEnvelope(envelope)
                .setVm(VmRef.newBuilder()
                        .setUuid(artifact.vmUuid())
                        .setName(artifact.vmName())
                        .setProduct(artifact.product())
                        .setRelease(artifact.release())
                        .build())
                .setIncidentId(artifact.incidentId())
                .setKind(ArtifactKind.valueOf(artifact.kind()))
                .setBucket(bucket)
                .setObjectKey(key)
                .setSha256(sha256)
                .setSizeBytes(size)
                .setFormat(artifact.format())
                .setEncryption(encryption == null ? null : encryption.description())
                .setPartial(artifact.partial())
                .setCapturePlan(artifact.capturePlan().stream()
                        .map(ArtifactKind::valueOf)
                        .toList())
                .build();
    }

    private static String contentType(String format) {
        return switch (format) {
            case "png" -> "image/png";
            case "text/plain" -> "text/plain; charset=utf-8";
            case "xml" -> "application/xml";
            case "json", "application/x-ndjson" -> "application/json";
            default -> "application/octet-stream";
        };
    }

    @Override
    public void close() {
        running = false;
        wake();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
