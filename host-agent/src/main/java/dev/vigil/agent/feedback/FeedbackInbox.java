package dev.vigil.agent.feedback;

import dev.vigil.agent.AgentMetrics;
import dev.vigil.agent.capture.ArtifactStage;
import dev.vigil.agent.capture.StagedArtifact;
import dev.vigil.agent.spool.EventCapture;
import dev.vigil.agent.spool.Lane;
import dev.vigil.agent.spool.SpoolRecord;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.ObjectKeys;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.UserFeedback;
import dev.vigil.schemas.common.ArtifactKind;
import dev.vigil.schemas.common.Envelope;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Takes feedback records that {@code vigil-agent feedback} dropped into the inbox directory (one encoded
 * {@code UserFeedback} per {@code .feedback} file) into the spool, then deletes each file. A record's screenshot is
 * first staged for the artifact uploader, which stores it at the record's key; without an object store the record is
 * spooled without its key and the picture stays in {@code blobs/}. A file that does not decode is renamed
 * {@code .rejected} and kept for the operator.
 */
public final class FeedbackInbox implements AutoCloseable {

    static final String SUFFIX = ".feedback";
    /**
     * The most a record may weigh: {@code vigil-agent feedback} writes at most 4,000 characters of text (16,000
     * bytes of UTF-8) and a few ids. Another process may write the inbox; a larger file is never read whole.
     */
    static final int MAX_RECORD_BYTES = 64 * 1024;

    private static final Duration FALLBACK_POLL = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(FeedbackInbox.class.getName());

    private final Path dir;
    private final Path blobs;
    private final EventCapture capture;
    private final ArtifactStage stage;
    private final Runnable staged;
    private final AgentMetrics metrics;
    private final WatchService watcher;
    private final Thread thread;
    private volatile boolean running = true;
    private boolean toldNoStore;

    private FeedbackInbox(
            Path dir, Path blobs, EventCapture capture, ArtifactStage stage, Runnable staged, AgentMetrics metrics)
            throws IOException {
        this.dir = dir;
        this.blobs = blobs;
        this.capture = capture;
        this.stage = stage;
        this.staged = staged;
        this.metrics = metrics;
        this.watcher = dir.getFileSystem().newWatchService();
        dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
        this.thread = new Thread(this::run, "vigil-agent-inbox");
        this.thread.setDaemon(true);
    }

    /**
     * Starts taking records from {@code dir}; screenshots are read from {@code blobs} and staged in {@code stage}
     * (null when no object store is configured), after which {@code staged} runs.
     */
    public static FeedbackInbox start(
            Path dir, Path blobs, EventCapture capture, ArtifactStage stage, Runnable staged, AgentMetrics metrics)
            throws IOException {
        Files.createDirectories(dir);
        FeedbackInbox inbox = new FeedbackInbox(dir, blobs, capture, stage, staged, metrics);
        inbox.thread.start();
        return inbox;
    }

    /** Woken by the file system when a file arrives (inotify); a slow poll covers events it may drop. */
    private void run() {
        drain();
        while (running) {
            try {
                WatchKey key = watcher.poll(FALLBACK_POLL.toMillis(), TimeUnit.MILLISECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
                drain();
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
        }
    }

    /** Moves every waiting file into the spool; returns how many. */
    int drain() {
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.filter(p -> p.getFileName().toString().endsWith(SUFFIX))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot list the feedback inbox " + dir + ": " + e.getMessage());
            return 0;
        }
        int taken = 0;
        for (Path file : files) {
            try {
                byte[] bytes = head(file);
                if (bytes.length > MAX_RECORD_BYTES) {
                    throw new IllegalArgumentException("over the " + MAX_RECORD_BYTES + " bytes a record may have");
                }
                UserFeedback feedback = EventCodec.of(UserFeedback.class).decode(bytes);
                if (feedback.getScreenshotKey() != null && stage == null) {
                    feedback = withoutScreenshot(feedback);
                    bytes = EventCodec.of(UserFeedback.class).encode(feedback);
                } else if (feedback.getScreenshotKey() != null) {
                    stageScreenshot(feedback);
                }
                RecordHeaders headers = new RecordHeaders();
                CloudEventHeaders.write(headers, feedback.getEnvelope());
                Map<String, byte[]> headerMap = new LinkedHashMap<>();
                for (Header header : headers) {
                    headerMap.put(header.key(), header.value());
                }
                capture.capture(
                        Lane.EVIDENCE,
                        new SpoolRecord(
                                TopicCatalog.AGENT_FEEDBACK.name(),
                                feedback.getVm().getUuid(),
                                feedback.getEnvelope().getEventId(),
                                headerMap,
                                bytes));
                // Durable in the spool first, then gone from the inbox: a crash in between re-spools the same event id.
                Files.delete(file);
                metrics.feedbackReceived();
                taken++;
                if (feedback.getScreenshotKey() != null) {
                    staged.run();
                }
            } catch (IOException e) {
                LOG.log(
                        System.Logger.Level.WARNING,
                        "feedback " + file.getFileName() + " stays in the inbox: " + e.getMessage());
            } catch (RuntimeException e) {
                reject(file, e);
            }
        }
        return taken;
    }

    /**
     * Stages the record's screenshot for upload: a copy, durable before the picture leaves {@code blobs/}. A picture
     * already gone was staged by an earlier attempt, or by an earlier record with the same picture.
     */
    /** Where a screenshot waits in {@code blobs/} for the agent to stage it, by its SHA-256. */
    public static Path blob(Path blobs, String sha256) {
        return blobs.resolve("sha256").resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    private void stageScreenshot(UserFeedback feedback) throws IOException {
        String key = feedback.getScreenshotKey();
        String feedbackId = feedback.getEnvelope().getEventId();
        Envelope envelope = feedback.getEnvelope();
        String tenant = envelope.getTenant().toString();
        String host = envelope.getSource().getHostId().toString();
        if (!ObjectKeys.ownedBy(key, tenant, host)) {
            // The inbox is written by another process: a key never names a file outside blobs/.
            throw new IllegalArgumentException("screenshot key '" + key + "' is not "
                    + ObjectKeys.hostPrefix(tenant, host) + "sha256/<2 hex>/<hash>");
        }
        Path blob = blob(blobs, key.substring(key.length() - 64));
        if (!Files.exists(blob)) {
            return;
        }
        Path work = stage.newWorkDir(feedbackId);
        Path copy = Files.copy(blob, work.resolve("screenshot.png"));
        stage.commit(
                new StagedArtifact(
                        feedbackId,
                        ArtifactKind.SCREENSHOT.name(),
                        "png",
                        false,
                        List.of(),
                        feedback.getVm().getUuid(),
                        feedback.getVm().getName(),
                        feedback.getVm().getProduct(),
                        feedback.getVm().getRelease(),
                        feedback.getEnvelope().getOccurredAt().toEpochMilli(),
                        StagedArtifact.Announcement.FEEDBACK),
                copy);
        ArtifactStage.deleteTree(work);
        Files.deleteIfExists(blob);
    }

    /** The record as spooled when no object store is configured: nobody could open its screenshot. */
    private UserFeedback withoutScreenshot(UserFeedback feedback) {
        if (!toldNoStore) {
            toldNoStore = true;
            LOG.log(
                    System.Logger.Level.WARNING,
                    "no object store configured (VIGIL_AGENT_S3_ENDPOINT): feedback is published without its"
                            + " screenshot, which stays in " + blobs + " (first: feedback "
                            + feedback.getEnvelope().getEventId() + ")");
        }
        // Field by field: Avro's deep copy (newBuilder(other)) resolves classes through a class loader of its own.
        return UserFeedback.newBuilder()
                .setEnvelope(feedback.getEnvelope())
                .setVm(feedback.getVm())
                .setText(feedback.getText())
                .setRating(feedback.getRating())
                .setCategory(feedback.getCategory())
                .setScreenshotKey(null)
                .build();
    }

    @Override
    public void close() throws IOException {
        running = false;
        // Closing the watch service wakes the thread; an interrupt could land in a spool write.
        watcher.close();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The file's first bytes, one more than a record may have: enough to tell that it is too large. */
    private static byte[] head(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(MAX_RECORD_BYTES + 1);
        }
    }

    private static void reject(Path file, RuntimeException cause) {
        try {
            Files.move(file, file.resolveSibling(file.getFileName() + ".rejected"));
            LOG.log(
                    System.Logger.Level.WARNING,
                    "feedback " + file.getFileName() + " is not a feedback record (" + cause.getMessage()
                            + "): kept as .rejected");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot set aside " + file + ": " + e.getMessage());
        }
    }
}
