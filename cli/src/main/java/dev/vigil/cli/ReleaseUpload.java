package dev.vigil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vigil.schemas.delivery.ImageChunker;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Uploads a release's master image to dispatch: cuts it into content-defined chunks, declares them, sends only the
 * chunks dispatch lacks (so a new release that shares blocks with the last one sends only what changed, and a run
 * after an interruption sends only what is left), then waits for dispatch's verdict on the whole image.
 */
public final class ReleaseUpload {

    private static final int ATTEMPTS = 4;

    private final DispatchClient dispatch;
    private final PrintStream out;

    /** What an upload did. */
    public record Outcome(int chunks, int sent, long sentBytes, long imageBytes, String state, String rejection) {}

    /** A chunk as declared. */
    record Chunk(long offset, int length, String sha256) {}

    public ReleaseUpload(DispatchClient dispatch, PrintStream out) {
        this.dispatch = dispatch;
        this.out = out;
    }

    /**
     * Creates the release when it does not exist ({@code release} describes it), uploads {@code image} and waits up to
     * {@code verifyTimeout} for the verdict.
     */
    public Outcome upload(
            String product, Map<String, Object> release, String format, Path image, Duration verifyTimeout)
            throws CliException {
        String version = String.valueOf(release.get("release"));
        String path = "/api/v1/products/" + product + "/releases/" + version;
        DispatchClient.Reply existing = dispatch.get(path);
        if (existing.status() == 404) {
            DispatchClient.Reply created = dispatch.post("/api/v1/products/" + product + "/releases", release);
            if (created.status() != 201) {
                throw new CliException(
                        CliException.REFUSED, "creating the release: " + DispatchClient.problem(created));
            }
            out.println("created release " + product + " " + version);
        } else if (existing.status() != 200) {
            throw new CliException(CliException.REFUSED, DispatchClient.problem(existing));
        }

        long started = System.nanoTime();
        List<Chunk> chunks = new ArrayList<>();
        String sha256;
        long size;
        try (InputStream file = new BufferedInputStream(Files.newInputStream(image), 1 << 20);
                DigestInputStream in = new DigestInputStream(file, sha256())) {
            size = ImageChunker.chunk(
                    in,
                    (offset, hash, bytes, from, length) ->
                            chunks.add(new Chunk(offset, length, HexFormat.of().formatHex(hash))));
            sha256 = HexFormat.of().formatHex(in.getMessageDigest().digest());
        } catch (IOException e) {
            throw new CliException(CliException.IO, "cannot read " + image + ": " + e.getMessage());
        }
        out.printf(
                "%s: %s, %d chunks, cut in %.1f s%n",
                image.getFileName(), mib(size), chunks.size(), (System.nanoTime() - started) / 1e9);

        Map<String, Object> declaration = new LinkedHashMap<>();
        declaration.put("format", format);
        declaration.put("size", size);
        declaration.put("sha256", sha256);
        declaration.put(
                "chunking",
                Map.of(
                        "algorithm", ImageChunker.ALGORITHM,
                        "minSize", ImageChunker.MIN_SIZE,
                        "averageSize", ImageChunker.AVERAGE_SIZE,
                        "maxSize", ImageChunker.MAX_SIZE));
        declaration.put("chunks", chunks);
        DispatchClient.Reply declared = dispatch.put(path + "/image", declaration);
        if (declared.status() != 200) {
            throw new CliException(CliException.REFUSED, "declaring the image: " + DispatchClient.problem(declared));
        }
        Set<String> missing = new LinkedHashSet<>();
        declared.body().path("missing").forEach(node -> missing.add(node.asText()));
        long missingBytes = declared.body().path("missingBytes").asLong();
        out.printf(
                "dispatch has %d of %d chunks; sending %d (%s)%n",
                chunks.size() - missing.size(), chunks.size(), missing.size(), mib(missingBytes));

        int sent = 0;
        long sentBytes = 0;
        long sendStart = System.nanoTime();
        long lastReport = sendStart;
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "r")) {
            for (Chunk chunk : chunks) {
                if (!missing.remove(chunk.sha256())) {
                    continue;
                }
                byte[] bytes = new byte[chunk.length()];
                file.seek(chunk.offset());
                file.readFully(bytes);
                sendChunk(chunk.sha256(), bytes);
                sent++;
                sentBytes += bytes.length;
                long now = System.nanoTime();
                if (now - lastReport > 2_000_000_000L || missing.isEmpty()) {
                    double seconds = (now - sendStart) / 1e9;
                    double rate = sentBytes / Math.max(seconds, 1e-3);
                    out.printf(
                            "  sent %d chunks, %s of %s, %.1f MiB/s, ETA %.0f s%n",
                            sent,
                            mib(sentBytes),
                            mib(missingBytes),
                            rate / (1 << 20),
                            Math.max(0, missingBytes - sentBytes) / rate);
                    lastReport = now;
                }
            }
        } catch (IOException e) {
            throw new CliException(CliException.IO, "cannot read " + image + ": " + e.getMessage());
        }

        DispatchClient.Reply verify = dispatch.post(path + "/image/verify", Map.of());
        if (verify.status() != 202) {
            throw new CliException(CliException.REFUSED, "verifying the image: " + DispatchClient.problem(verify));
        }
        JsonNode state = awaitVerdict(path, verifyTimeout);
        String verdict = state.path("state").asText();
        String rejection = state.path("rejection").isNull()
                ? null
                : state.path("rejection").asText();
        if ("REJECTED".equals(verdict)) {
            out.println("dispatch rejected the image: " + rejection);
        } else {
            out.println("dispatch verified the image (" + verdict + ")");
        }
        return new Outcome(chunks.size(), sent, sentBytes, size, verdict, rejection);
    }

    private void sendChunk(String sha256, byte[] bytes) throws CliException {
        for (int attempt = 1; ; attempt++) {
            DispatchClient.Reply reply;
            try {
                reply = dispatch.putBytes("/api/v1/chunks/" + sha256, bytes);
            } catch (CliException e) {
                if (e.status() != CliException.IO || attempt == ATTEMPTS) {
                    throw e;
                }
                backOff(attempt, e.getMessage());
                continue;
            }
            if (reply.status() == 200 || reply.status() == 201) {
                return;
            }
            if (reply.status() < 500 && reply.status() != 422 || attempt == ATTEMPTS) {
                throw new CliException(CliException.REFUSED, "chunk " + sha256 + ": " + DispatchClient.problem(reply));
            }
            backOff(attempt, DispatchClient.problem(reply));
        }
    }

    private void backOff(int attempt, String why) throws CliException {
        long millis = 500L << attempt;
        out.println("  " + why + "; trying again in " + millis + " ms");
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(CliException.IO, "interrupted");
        }
    }

    private JsonNode awaitVerdict(String path, Duration timeout) throws CliException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long lastReport = 0;
        while (true) {
            DispatchClient.Reply reply = dispatch.get(path);
            String state =
                    reply.body() == null ? "" : reply.body().path("state").asText();
            if (!"VERIFYING".equals(state)) {
                return reply.body();
            }
            if (System.nanoTime() > deadline) {
                throw new CliException(
                        CliException.IO, "dispatch is still verifying after " + timeout.toSeconds() + " s; ask later");
            }
            if (System.nanoTime() - lastReport > 2_000_000_000L) {
                out.printf(
                        "  dispatch verified %s%n",
                        mib(reply.body()
                                .path("verification")
                                .path("verifiedBytes")
                                .asLong()));
                lastReport = System.nanoTime();
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(CliException.IO, "interrupted");
            }
        }
    }

    private static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (double) (1 << 20));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
