package dev.vigil.agent.capture;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Artifacts on local disk between capture and upload: {@code <dir>/<incident id>/<kind>.blob} and its ticket
 * {@code <kind>.json}. A ticket is written (and fsynced) after its blob, so a ticket names a complete blob; a blob
 * without a ticket is an interrupted capture's leftover and is removed at start. {@code <dir>/.work} holds captures
 * in progress. {@code <dir>/.pending/<incident id>.json} is a capture's intent, written before its first step and
 * removed once all it captured is staged: one left at start is a capture the agent was stopped in (a crash, a
 * {@code kill -9}), which {@link CaptureService#resumePending()} takes up again.
 */
public final class ArtifactStage {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(ArtifactStage.class.getName());

    private final Path dir;
    private final long maxBytes;

    public ArtifactStage(Path dir, long maxBytes) throws IOException {
        this.dir = dir;
        this.maxBytes = maxBytes;
        Files.createDirectories(dir);
        deleteTree(workDir());
        Files.createDirectories(workDir());
        if (Files.isDirectory(pendingDir())) {
            // An intent torn by a crash while it was written: its capture had not begun, and nothing refers to it.
            try (Stream<Path> torn = Files.list(pendingDir())) {
                for (Path partial :
                        torn.filter(f -> f.toString().endsWith(".json.tmp")).toList()) {
                    Files.delete(partial);
                }
            }
        }
        for (Path incident : incidents()) {
            try (Stream<Path> files = Files.list(incident)) {
                for (Path blob :
                        files.filter(f -> f.toString().endsWith(".blob")).toList()) {
                    String kind = blob.getFileName().toString().replace(".blob", "");
                    if (!Files.exists(incident.resolve(kind + ".json"))) {
                        LOG.log(System.Logger.Level.WARNING, "removing " + blob + ": its capture did not finish");
                        Files.delete(blob);
                    }
                }
            }
        }
    }

    /** A fresh directory for a capture in progress. */
    public Path newWorkDir(String incidentId) throws IOException {
        return Files.createTempDirectory(workDir(), safe(incidentId) + "-");
    }

    /** Bytes staged and in progress, against {@link #maxBytes()}. */
    public long bytes() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .mapToLong(f -> {
                        try {
                            return Files.size(f);
                        } catch (IOException e) {
                            return 0;
                        }
                    })
                    .sum();
        }
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** Moves a captured blob into the stage under its ticket; the blob is durable when this returns. */
    public void commit(StagedArtifact artifact, Path blob) throws IOException {
        Path incident = Files.createDirectories(dir.resolve(safe(artifact.incidentId())));
        Path target = incident.resolve(artifact.blobName());
        fsync(blob);
        move(blob, target);
        Path ticket = incident.resolve(artifact.ticketName() + ".tmp");
        Files.write(ticket, JSON.writeValueAsBytes(artifact));
        fsync(ticket);
        move(ticket, incident.resolve(artifact.ticketName()));
        fsync(incident);
    }

    /** Every staged artifact, oldest incident first. */
    public List<StagedArtifact> pending() throws IOException {
        List<StagedArtifact> staged = new ArrayList<>();
        for (Path incident : incidents()) {
            try (DirectoryStream<Path> tickets = Files.newDirectoryStream(incident, "*.json")) {
                for (Path ticket : tickets) {
                    try {
                        staged.add(JSON.readValue(ticket.toFile(), StagedArtifact.class));
                    } catch (IOException e) {
                        LOG.log(System.Logger.Level.ERROR, "unreadable artifact ticket " + ticket + ": " + e);
                    }
                }
            }
        }
        return staged;
    }

    public Path blob(StagedArtifact artifact) {
        return dir.resolve(safe(artifact.incidentId())).resolve(artifact.blobName());
    }

    /** A file beside the blob for what upload derives from it (the encrypted form). */
    Path derived(StagedArtifact artifact, String suffix) {
        return dir.resolve(safe(artifact.incidentId())).resolve(artifact.blobName() + suffix);
    }

    /** Drops an uploaded and announced artifact, and its incident directory once empty. */
    public void remove(StagedArtifact artifact) throws IOException {
        Path incident = dir.resolve(safe(artifact.incidentId()));
        Files.deleteIfExists(incident.resolve(artifact.ticketName()));
        try (Stream<Path> files = Files.list(incident)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith(artifact.blobName()))
                    .toList()) {
                Files.deleteIfExists(f);
            }
        }
        try (Stream<Path> rest = Files.list(incident)) {
            if (rest.findAny().isEmpty()) {
                Files.deleteIfExists(incident);
            }
        }
    }

    /**
     * Sets aside a ticket whose staged file is gone, so that it no longer holds up the artifacts after it: renamed
     * {@code .orphaned} beside where its file was, for the operator.
     */
    public void setAside(StagedArtifact artifact) throws IOException {
        Path ticket = dir.resolve(safe(artifact.incidentId())).resolve(artifact.ticketName());
        Files.move(
                ticket,
                ticket.resolveSibling(artifact.ticketName() + ".orphaned"),
                StandardCopyOption.REPLACE_EXISTING);
    }

    /** Whether the artifact's file (or the encrypted form made from it) is still staged. */
    public boolean staged(StagedArtifact artifact) {
        return Files.exists(blob(artifact)) || Files.exists(derived(artifact, ".sealed"));
    }

    /**
     * A capture that has begun and not yet staged everything: the trigger event (single-object Avro), how many times
     * the capture has been started, and whether it paused the VM (a hang), which the capture must undo at its end.
     */
    public record Intent(String incidentId, int attempt, String firstStartedAt, byte[] trigger, boolean paused) {}

    /** Records (or re-records) a capture's intent, fsynced before this returns. */
    public void recordIntent(Intent intent) throws IOException {
        Path pending = Files.createDirectories(pendingDir());
        Path file = pending.resolve(safe(intent.incidentId()) + ".json");
        Path partial = pending.resolve(safe(intent.incidentId()) + ".json.tmp");
        Files.write(partial, JSON.writeValueAsBytes(intent));
        fsync(partial);
        move(partial, file);
        fsync(pending);
    }

    /** Forgets a capture's intent once everything it captured is staged. */
    public void clearIntent(String incidentId) throws IOException {
        Files.deleteIfExists(pendingDir().resolve(safe(incidentId) + ".json"));
    }

    /** Captures begun and not finished, oldest first; an unreadable intent is set aside and logged. */
    public List<Intent> intents() throws IOException {
        if (!Files.isDirectory(pendingDir())) {
            return List.of();
        }
        List<Intent> intents = new ArrayList<>();
        try (Stream<Path> files = Files.list(pendingDir())) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json"))
                    .sorted(Comparator.comparing(ArtifactStage::modified))
                    .toList()) {
                try {
                    intents.add(JSON.readValue(file.toFile(), Intent.class));
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.ERROR, "unreadable capture intent " + file + ": " + e);
                    Files.move(
                            file,
                            file.resolveSibling(file.getFileName() + ".unreadable"),
                            StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return intents;
    }

    private Path pendingDir() {
        return dir.resolve(".pending");
    }

    private List<Path> incidents() throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted(Comparator.comparing(ArtifactStage::modified))
                    .toList();
        }
    }

    private Path workDir() {
        return dir.resolve(".work");
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Incident ids are UUIDs; anything else is made safe to use as a file name. */
    static String safe(String id) {
        return id.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void fsync(Path path) throws IOException {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    public static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
