package dev.vigil.agent.feedback;

import dev.vigil.agent.AgentMetrics;
import dev.vigil.agent.spool.EventCapture;
import dev.vigil.agent.spool.Lane;
import dev.vigil.agent.spool.SpoolRecord;
import dev.vigil.schemas.CloudEventHeaders;
import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.TopicCatalog;
import dev.vigil.schemas.agent.UserFeedback;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Takes feedback records that {@code vigil-agent feedback} dropped into the inbox directory (one encoded
 * {@code UserFeedback} per {@code .feedback} file) into the spool, then deletes each file. A file that does not
 * decode is renamed {@code .rejected} and kept for the operator.
 */
public final class FeedbackInbox implements AutoCloseable {

    static final String SUFFIX = ".feedback";
    private static final Duration FALLBACK_POLL = Duration.ofSeconds(5);
    private static final System.Logger LOG = System.getLogger(FeedbackInbox.class.getName());

    private final Path dir;
    private final EventCapture capture;
    private final AgentMetrics metrics;
    private final WatchService watcher;
    private final Thread thread;
    private volatile boolean running = true;

    private FeedbackInbox(Path dir, EventCapture capture, AgentMetrics metrics) throws IOException {
        this.dir = dir;
        this.capture = capture;
        this.metrics = metrics;
        this.watcher = dir.getFileSystem().newWatchService();
        dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
        this.thread = new Thread(this::run, "vigil-agent-inbox");
        this.thread.setDaemon(true);
    }

    public static FeedbackInbox start(Path dir, EventCapture capture, AgentMetrics metrics) throws IOException {
        Files.createDirectories(dir);
        FeedbackInbox inbox = new FeedbackInbox(dir, capture, metrics);
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
                byte[] bytes = Files.readAllBytes(file);
                UserFeedback feedback = EventCodec.of(UserFeedback.class).decode(bytes);
                RecordHeaders headers = new RecordHeaders();
                CloudEventHeaders.write(headers, feedback.getEnvelope());
                Map<String, byte[]> headerMap = new java.util.LinkedHashMap<>();
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
