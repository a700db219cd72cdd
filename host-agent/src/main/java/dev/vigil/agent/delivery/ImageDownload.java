package dev.vigil.agent.delivery;

import dev.vigil.schemas.delivery.ImageChunk;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.ImageManifests;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Puts a release's master image together from its chunks: each checked against the signed manifest before it is
 * written (a tampered chunk is refused and never reaches a disk a VM reads), then the whole image against its
 * signed hash. A chunk written is recorded in a bitmap beside the partial image, so a run after an interruption sends
 * only what is left; free space is checked first and the message says how much is needed.
 */
final class ImageDownload {

    /** Room kept free beyond the image, so the host does not fill up. */
    static final long MARGIN = 256L * 1024 * 1024;

    private final DispatchConnection dispatch;
    private final PrintStream out;

    ImageDownload(DispatchConnection dispatch, PrintStream out) {
        this.dispatch = dispatch;
        this.out = out;
    }

    /** The verified master image at {@code target}, downloading what is not there yet. */
    Path fetch(ImageManifest manifest, Path target) throws DeliveryException {
        if (Files.exists(target)) {
            return target;
        }
        Path part = target.resolveSibling(target.getFileName() + ".part");
        Path bitmap = target.resolveSibling(target.getFileName() + ".chunks");
        try {
            Files.createDirectories(target.getParent());
            byte[] done = Files.exists(bitmap) && Files.exists(part)
                    ? Files.readAllBytes(bitmap)
                    : new byte[manifest.getChunks().size()];
            if (done.length != manifest.getChunks().size()) {
                done = new byte[manifest.getChunks().size()];
            }
            long have = 0;
            for (int i = 0; i < done.length; i++) {
                have += done[i] == 1 ? manifest.getChunks().get(i).getLength() : 0;
            }
            long needed = manifest.getSize() - have;
            long free = Files.getFileStore(target.getParent()).getUsableSpace();
            if (free < needed + MARGIN) {
                throw new DeliveryException(
                        DeliveryException.Kind.NO_SPACE,
                        String.format(
                                "%s %s needs %d MiB more in %s (and %d MiB to spare); %d MiB are free: free some"
                                        + " space and run again, it resumes",
                                manifest.getProduct(),
                                manifest.getRelease(),
                                needed >> 20,
                                target.getParent(),
                                MARGIN >> 20,
                                free >> 20));
            }
            if (have > 0) {
                out.println(String.format(
                        java.util.Locale.ROOT,
                        "resuming %s %s: %.1f of %.1f MiB are here and verified",
                        manifest.getProduct(),
                        manifest.getRelease(),
                        have / 1048576.0,
                        manifest.getSize() / 1048576.0));
            }
            Progress progress = new Progress(
                    out,
                    "downloading " + manifest.getProduct() + " " + manifest.getRelease(),
                    manifest.getSize(),
                    have);
            try (RandomAccessFile file = new RandomAccessFile(part.toFile(), "rw")) {
                file.setLength(manifest.getSize());
                long lastSync = System.nanoTime();
                for (int i = 0; i < done.length; i++) {
                    if (done[i] == 1) {
                        continue;
                    }
                    ImageChunk chunk = manifest.getChunks().get(i);
                    byte[] bytes;
                    try {
                        bytes = chunk(chunk);
                    } catch (DeliveryException e) {
                        // Keep what is verified on disk: the next run resumes after it.
                        file.getFD().sync();
                        TrustStore.write(bitmap, done);
                        throw e;
                    }
                    file.seek(chunk.getOffset());
                    file.write(bytes);
                    done[i] = 1;
                    have += bytes.length;
                    if (System.nanoTime() - lastSync > 1_000_000_000L) {
                        // What the bitmap claims is on disk must be: the data first, then the bitmap.
                        file.getFD().sync();
                        TrustStore.write(bitmap, done);
                        lastSync = System.nanoTime();
                    }
                    progress.update(have);
                }
                file.getFD().sync();
                TrustStore.write(bitmap, done);
            }
            progress.update(manifest.getSize());
            String whole = sha256(part);
            if (!whole.equals(manifest.getSha256())) {
                // Every chunk matched, so the file changed under us (a disk error): start over.
                Files.delete(bitmap);
                Files.delete(part);
                throw new DeliveryException(
                        DeliveryException.Kind.IO,
                        "the downloaded image's SHA-256 is " + whole + ", not the signed " + manifest.getSha256()
                                + ": the local disk changed it; run again to download it anew");
            }
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
            Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("r--r-----"));
            Files.delete(bitmap);
            return target;
        } catch (IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO,
                    "cannot write the image under " + target.getParent() + ": " + e.getMessage(),
                    e);
        }
    }

    private byte[] chunk(ImageChunk chunk) throws DeliveryException {
        String name = ImageManifests.hex(chunk.getSha256());
        byte[] bytes = TrustStore.ok(dispatch.chunk(name), "chunk " + name);
        byte[] digest = sha256().digest(bytes);
        if (bytes.length != chunk.getLength()
                || !Arrays.equals(digest, chunk.getSha256().bytes())) {
            throw new DeliveryException(
                    DeliveryException.Kind.UNTRUSTED,
                    "the chunk at offset " + chunk.getOffset() + " (" + name + ") does not match the signed manifest"
                            + " (SHA-256 " + HexFormat.of().formatHex(digest) + "): refused; nothing was installed."
                            + " Tell the vendor: its object store serves altered data");
        }
        return bytes;
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
