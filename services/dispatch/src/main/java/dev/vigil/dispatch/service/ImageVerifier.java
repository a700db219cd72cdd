package dev.vigil.dispatch.service;

import dev.vigil.dispatch.domain.ImageCheck;
import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.schemas.delivery.ImageChunk;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.ImageManifests;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Reads a fully uploaded image back from the object store, in order, once: every chunk against its hash, the whole
 * image against its size and hash, and its format ({@link ImageCheck}). The verdict is VERIFIED or REJECTED with the
 * first reason found; progress is written as it goes. A verification cut short by a stop is started again at start.
 */
@ApplicationScoped
public class ImageVerifier {

    private static final Logger LOG = Logger.getLogger(ImageVerifier.class);
    private static final long PROGRESS_EVERY_BYTES = 64L * 1024 * 1024;

    private final Database db;
    private final ChunkStore chunks;
    private final MeterRegistry metrics;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread thread = new Thread(r, "vigil-image-verifier");
        thread.setDaemon(true);
        return thread;
    });

    ImageVerifier(Database db, ChunkStore chunks, MeterRegistry metrics) {
        this.db = db;
        this.chunks = chunks;
        this.metrics = metrics;
    }

    void onStart(@Observes StartupEvent event) {
        for (Release release : db.read(ReleaseRepository::verifying)) {
            start(release.product(), release.version());
        }
    }

    void onStop(@Observes ShutdownEvent event) throws InterruptedException {
        worker.shutdownNow();
        worker.awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Verifies the release's declared image in the background. */
    void start(String product, String version) {
        worker.submit(() -> {
            try {
                verify(product, version);
            } catch (RuntimeException e) {
                LOG.errorf(
                        "verifying %s %s failed: %s; it stays VERIFYING and is tried again at start",
                        product, version, e.toString());
            }
        });
    }

    private void verify(String product, String version) {
        Release release = db.read(c -> ReleaseRepository.find(c, product, version, false));
        ImageManifest manifest =
                ReleaseService.storedManifest(db.read(c -> ReleaseRepository.manifest(c, product, version)));
        ImageCheck check = new ImageCheck(
                ImageCheck.ImageFormat.valueOf(manifest.getFormat().name()));
        MessageDigest whole = sha256();
        MessageDigest part = sha256();
        long read = 0;
        long reported = 0;
        String rejection = null;
        byte[] buffer = new byte[64 * 1024];
        long started = System.nanoTime();
        for (ImageChunk chunk : manifest.getChunks()) {
            String name = ImageManifests.hex(chunk.getSha256());
            long chunkRead = 0;
            try (InputStream in = chunks.open(name)) {
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    if (chunkRead + n > chunk.getLength()) {
                        break;
                    }
                    part.update(buffer, 0, n);
                    whole.update(buffer, 0, n);
                    check.accept(chunk.getOffset() + chunkRead, buffer, 0, n);
                    chunkRead += n;
                }
            } catch (IOException e) {
                LOG.warnf(
                        "verifying %s %s: %s; it stays VERIFYING and is tried again at start",
                        product, version, e.getMessage());
                return;
            }
            String actual = HexFormat.of().formatHex(part.digest());
            if (chunkRead != chunk.getLength() || !actual.equals(name)) {
                rejection = "the stored chunk at offset " + chunk.getOffset() + " (" + name + ") does not match its"
                        + " hash: it was altered in the object store; upload the image again";
                break;
            }
            read += chunkRead;
            if (read - reported >= PROGRESS_EVERY_BYTES) {
                long at = read;
                db.transaction(c -> {
                    ReleaseRepository.progress(c, product, version, at);
                    return null;
                });
                reported = read;
            }
        }
        ImageCheck.Outcome outcome = null;
        if (rejection == null) {
            String actual = HexFormat.of().formatHex(whole.digest());
            if (read != manifest.getSize()) {
                rejection = "the image is " + read + " bytes, the declaration says " + manifest.getSize();
            } else if (!actual.equals(manifest.getSha256())) {
                rejection = "the image's SHA-256 is " + actual + ", the declaration says " + manifest.getSha256()
                        + ": the chunks do not make the declared image";
            } else {
                try {
                    rereadTables(check, manifest);
                } catch (IOException e) {
                    LOG.warnf(
                            "verifying %s %s: %s; it stays VERIFYING and is tried again at start",
                            product, version, e.getMessage());
                    return;
                }
                outcome = check.finish(read);
                rejection = outcome.problem();
            }
        }
        String reason = rejection;
        Long virtualSize = outcome != null && outcome.passed() ? outcome.virtualSize() : null;
        long total = read;
        boolean recorded = db.transaction(c ->
                ReleaseRepository.verdict(c, product, version, release.manifestSha256(), virtualSize, reason, total));
        double seconds = (System.nanoTime() - started) / 1e9;
        metrics.counter("vigil.dispatch.images.verified", "outcome", reason == null ? "verified" : "rejected")
                .increment();
        if (recorded) {
            if (reason == null) {
                LOG.infof("image of %s %s verified: %d bytes in %.1f s", product, version, total, seconds);
            } else {
                LOG.warnf("image of %s %s rejected: %s", product, version, reason);
            }
        }
    }

    /** Hands the image check the qcow2 tables that came before the table naming them. */
    private void rereadTables(ImageCheck check, ImageManifest manifest) throws IOException {
        for (long offset : check.missedTables()) {
            byte[] table = new byte[check.tableBytes()];
            int filled = 0;
            for (ImageChunk chunk : manifest.getChunks()) {
                long start = Math.max(offset, chunk.getOffset());
                long end = Math.min(offset + table.length, chunk.getOffset() + chunk.getLength());
                if (start >= end) {
                    continue;
                }
                try (InputStream in = chunks.open(ImageManifests.hex(chunk.getSha256()))) {
                    in.skipNBytes(start - chunk.getOffset());
                    filled += in.readNBytes(table, (int) (start - offset), (int) (end - start));
                }
            }
            if (filled < table.length) {
                // A table past the end of the image: the check reports it as truncated.
                continue;
            }
            check.acceptTable(offset, table);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
