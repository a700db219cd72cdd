package dev.vigil.agent.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import dev.vigil.agent.capture.QemuImg;
import dev.vigil.schemas.agent.Conformity;
import dev.vigil.schemas.agent.ConformityVerdict;
import dev.vigil.schemas.delivery.ImageChunk;
import dev.vigil.schemas.delivery.ImageManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Compares a VM's image chain with its release's signed manifest: the master copy is re-hashed chunk by chunk (any
 * difference there is damage or tampering, never expected), and the user's overlay is mapped to say how much of the
 * disk it holds on top (expected: it is the user's own writes).
 */
final class ConformityCheck {

    /** The most diverging chunks one report lists. */
    static final int MAX_LISTED = 1_000;

    private ConformityCheck() {}

    /**
     * Checks {@code master} (and, when given, the overlay {@code disk} on it) against {@code manifest}.
     *
     * @param disk the VM's overlay, or null when it is not known
     */
    static Conformity check(ImageManifest manifest, Path master, Path disk) throws IOException {
        long started = System.nanoTime();
        List<Long> diverging = new ArrayList<>();
        long divergingBytes = 0;
        int checked = 0;
        MessageDigest sha256 = sha256();
        try (FileChannel file = FileChannel.open(master, StandardOpenOption.READ)) {
            long size = file.size();
            ByteBuffer buffer = ByteBuffer.allocate(maxChunk(manifest));
            for (ImageChunk chunk : manifest.getChunks()) {
                checked++;
                boolean same = chunk.getOffset() + chunk.getLength() <= size
                        && Arrays.equals(
                                digest(file, chunk, buffer, sha256),
                                chunk.getSha256().bytes());
                if (!same) {
                    divergingBytes += chunk.getLength();
                    if (diverging.size() < MAX_LISTED) {
                        diverging.add(chunk.getOffset());
                    }
                }
            }
            if (size != manifest.getSize()) {
                divergingBytes += Math.max(0, size - manifest.getSize());
                if (size > manifest.getSize() && diverging.size() < MAX_LISTED) {
                    diverging.add(manifest.getSize());
                }
            }
        }
        long overlayBytes = 0;
        int extents = 0;
        if (disk != null && Files.exists(disk)) {
            long end = -1;
            // Depth 0 is what the overlay itself holds: the guest's writes (and discards) since it was made.
            for (JsonNode extent : QemuImg.json("map", "-U", "--output=json", disk.toString())) {
                if (extent.path("depth").asInt(-1) != 0
                        || !extent.path("present").asBoolean(true)) {
                    continue;
                }
                long start = extent.path("start").asLong();
                long length = extent.path("length").asLong();
                overlayBytes += length;
                if (start != end) {
                    extents++;
                }
                end = start + length;
            }
        }
        ConformityVerdict verdict = divergingBytes > 0
                ? ConformityVerdict.MASTER_DIVERGES
                : overlayBytes > 0 ? ConformityVerdict.USER_CHANGES_ONLY : ConformityVerdict.CONFORMANT;
        long millis = (System.nanoTime() - started) / 1_000_000;
        return Conformity.newBuilder()
                .setProduct(manifest.getProduct())
                .setRelease(manifest.getRelease())
                .setVerdict(verdict)
                .setChunksChecked(checked)
                .setDivergingChunks(diverging)
                .setDivergingBytes(divergingBytes)
                .setOverlayBytes(overlayBytes)
                .setOverlayExtents(extents)
                .setMillis(millis)
                .setDetail(describe(verdict, manifest, diverging, divergingBytes, overlayBytes, extents))
                .build();
    }

    /** The report of an image that has not finished arriving: its chunks are verified as they come. */
    static Conformity arriving(ImageManifest manifest) {
        return Conformity.newBuilder()
                .setProduct(manifest.getProduct())
                .setRelease(manifest.getRelease())
                .setVerdict(ConformityVerdict.INCOMPLETE)
                .setChunksChecked(0)
                .setDivergingBytes(0)
                .setOverlayBytes(0)
                .setOverlayExtents(0)
                .setMillis(0)
                .setDetail("the image is still arriving: each chunk is verified against the manifest as it comes;"
                        + " the whole master is checked once it is here")
                .build();
    }

    private static String describe(
            ConformityVerdict verdict,
            ImageManifest manifest,
            List<Long> diverging,
            long divergingBytes,
            long overlayBytes,
            int extents) {
        String overlay = overlayBytes == 0
                ? "the user's overlay holds nothing"
                : String.format(
                        Locale.ROOT,
                        "the user's overlay holds %.1f MiB in %d regions (the user's own writes)",
                        overlayBytes / 1048576.0,
                        extents);
        if (verdict != ConformityVerdict.MASTER_DIVERGES) {
            return "the master copy matches the signed manifest of " + manifest.getProduct() + " "
                    + manifest.getRelease() + " in all " + manifest.getChunks().size() + " chunks; " + overlay;
        }
        return String.format(
                Locale.ROOT,
                "the master copy differs from the signed manifest in %.1f KiB: chunks at offsets %s%s; %s. The copy"
                        + " on this host was altered after it was verified (disk damage or tampering)",
                divergingBytes / 1024.0,
                diverging.subList(0, Math.min(diverging.size(), 10)),
                diverging.size() > 10 ? " and more" : "",
                overlay);
    }

    private static int maxChunk(ImageManifest manifest) {
        int max = 0;
        for (ImageChunk chunk : manifest.getChunks()) {
            max = Math.max(max, chunk.getLength());
        }
        return Math.max(max, 1);
    }

    private static byte[] digest(FileChannel file, ImageChunk chunk, ByteBuffer buffer, MessageDigest sha256)
            throws IOException {
        buffer.clear().limit(chunk.getLength());
        long position = chunk.getOffset();
        while (buffer.hasRemaining()) {
            int n = file.read(buffer, position);
            if (n < 0) {
                break;
            }
            position += n;
        }
        buffer.flip();
        sha256.update(buffer);
        return sha256.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
