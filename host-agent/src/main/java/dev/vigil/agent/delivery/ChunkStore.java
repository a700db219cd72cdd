package dev.vigil.agent.delivery;

import dev.vigil.schemas.delivery.ImageChunk;
import dev.vigil.schemas.delivery.ImageManifest;
import dev.vigil.schemas.delivery.ImageManifests;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A release's master image as it arrives: a file of the image's length beside the final one, filled chunk by chunk,
 * each checked against the signed manifest before it is written, so no byte that did not match is ever on disk. A
 * bitmap beside it records which chunks are there (written after the data it claims is synced), so a later run
 * resumes. Chunks are filled in any order, from several threads: in order by a download, or where a running VM
 * reads through {@link ImageServer}, while a background pull fills the rest. Once every chunk is there, {@link
 * #finish()} checks the whole image against its signed hash and moves it to its final name, read-only.
 */
final class ChunkStore implements AutoCloseable {

    /** Room kept free beyond the image, so the host does not fill up. */
    static final long MARGIN = 256L * 1024 * 1024;

    private static final int LOCKS = 64;
    private static final long SYNC_EVERY_NANOS = 1_000_000_000L;

    private final ImageManifest manifest;
    private final List<ImageChunk> chunks;
    private final long[] offsets;
    private final Path target;
    private final Path part;
    private final Path bitmap;
    private final DispatchConnection dispatch;
    private final FileChannel file;
    private final byte[] done;
    private final Object[] locks = new Object[LOCKS];
    private final AtomicLong have = new AtomicLong();
    private final AtomicLong fetched = new AtomicLong();
    private final AtomicInteger demand = new AtomicInteger();
    private final Set<Integer> stalled = ConcurrentHashMap.newKeySet();
    private long lastSync = System.nanoTime();
    private volatile boolean finished;

    private ChunkStore(
            ImageManifest manifest,
            Path target,
            DispatchConnection dispatch,
            FileChannel file,
            byte[] done,
            long have) {
        this.manifest = manifest;
        this.chunks = manifest.getChunks();
        this.offsets = chunks.stream().mapToLong(ImageChunk::getOffset).toArray();
        this.target = target;
        this.part = partOf(target);
        this.bitmap = bitmapOf(target);
        this.dispatch = dispatch;
        this.file = file;
        this.done = done;
        this.have.set(have);
        for (int i = 0; i < LOCKS; i++) {
            locks[i] = new Object();
        }
    }

    /**
     * Opens the partial image of {@code manifest} that becomes {@code target}, with what an earlier run left; checks
     * first that the rest fits, saying how much room is needed if it does not.
     */
    static ChunkStore open(ImageManifest manifest, Path target, DispatchConnection dispatch) throws DeliveryException {
        Path part = partOf(target);
        Path bitmap = bitmapOf(target);
        int count = manifest.getChunks().size();
        try {
            if (Files.exists(target)) {
                // Finished before: every chunk is there and the whole image was verified.
                byte[] all = new byte[count];
                Arrays.fill(all, (byte) 1);
                ChunkStore store = new ChunkStore(
                        manifest,
                        target,
                        dispatch,
                        FileChannel.open(target, StandardOpenOption.READ),
                        all,
                        manifest.getSize());
                store.finished = true;
                return store;
            }
            Files.createDirectories(target.getParent());
            byte[] done = Files.exists(bitmap) && Files.exists(part) ? Files.readAllBytes(bitmap) : new byte[count];
            if (done.length != count) {
                done = new byte[count];
            }
            long have = 0;
            for (int i = 0; i < count; i++) {
                have += done[i] == 1 ? manifest.getChunks().get(i).getLength() : 0;
            }
            long needed = manifest.getSize() - have;
            long free = Files.getFileStore(target.getParent()).getUsableSpace();
            if (free < needed + MARGIN) {
                throw new DeliveryException(
                        DeliveryException.Kind.NO_SPACE,
                        String.format(
                                Locale.ROOT,
                                "%s %s needs %d MiB more in %s (and %d MiB to spare); %d MiB are free: free some"
                                        + " space and run again, it resumes",
                                manifest.getProduct(),
                                manifest.getRelease(),
                                needed >> 20,
                                target.getParent(),
                                MARGIN >> 20,
                                free >> 20));
            }
            FileChannel channel = FileChannel.open(
                    part, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            if (channel.size() != manifest.getSize()) {
                // Sparse: only what arrives takes room.
                channel.truncate(Math.min(channel.size(), manifest.getSize()));
                if (manifest.getSize() > 0) {
                    channel.write(ByteBuffer.allocate(1), manifest.getSize() - 1);
                }
            }
            return new ChunkStore(manifest, target, dispatch, channel, done, have);
        } catch (IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO,
                    "cannot write the image under " + target.getParent() + ": " + e.getMessage(),
                    e);
        }
    }

    static Path partOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    static Path bitmapOf(Path target) {
        return target.resolveSibling(target.getFileName() + ".chunks");
    }

    ImageManifest manifest() {
        return manifest;
    }

    long size() {
        return manifest.getSize();
    }

    /** Bytes verified and on disk. */
    long have() {
        return have.get();
    }

    /** Bytes this store fetched from the vendor since it was opened. */
    long fetched() {
        return fetched.get();
    }

    int chunkCount() {
        return chunks.size();
    }

    boolean has(int index) {
        synchronized (lock(index)) {
            return done[index] == 1;
        }
    }

    boolean complete() {
        return have.get() == manifest.getSize();
    }

    /** Reads a VM is waiting for are in flight: a background pull gives way to them. */
    boolean demanded() {
        return demand.get() > 0;
    }

    /** A chunk a VM's read failed on and that is still missing, or -1: the background pull retries these first. */
    int stalledChunk() {
        for (int index : stalled) {
            if (!has(index)) {
                return index;
            }
        }
        return -1;
    }

    /**
     * True once, when reads failed (so the VM may have paused on them) and every chunk they needed is now here: the
     * VM can go on.
     */
    boolean stalledReadsReady() {
        if (stalled.isEmpty() || stalledChunk() >= 0) {
            return false;
        }
        stalled.clear();
        return true;
    }

    /** Makes sure chunk {@code index} is on disk, fetching and verifying it if it is not. */
    void ensure(int index) throws DeliveryException {
        synchronized (lock(index)) {
            if (done[index] == 1) {
                return;
            }
            ImageChunk chunk = chunks.get(index);
            byte[] bytes = fetch(chunk);
            try {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                long position = chunk.getOffset();
                while (buffer.hasRemaining()) {
                    position += file.write(buffer, position);
                }
            } catch (IOException e) {
                throw new DeliveryException(
                        DeliveryException.Kind.IO, "cannot write the image in " + part + ": " + e.getMessage(), e);
            }
            done[index] = 1;
        }
        have.addAndGet(chunks.get(index).getLength());
        syncNowAndThen(false);
    }

    /**
     * Makes sure every chunk covering {@code [first, end)} is on disk, fetching and verifying what is missing; a chunk
     * that cannot be had is remembered as one a VM waits for.
     */
    void ensureRange(long first, long end) throws DeliveryException {
        demand.incrementAndGet();
        try {
            for (int i = indexOf(first); i < chunks.size() && offsets[i] < end; i++) {
                try {
                    ensure(i);
                } catch (DeliveryException e) {
                    stalled.add(i);
                    throw e;
                }
            }
        } finally {
            demand.decrementAndGet();
        }
    }

    /** Fills {@code buffer} from the image at {@code offset}, from chunks already here ({@link #ensureRange}). */
    int readHere(long offset, ByteBuffer buffer) throws DeliveryException {
        long end = Math.min(offset + buffer.remaining(), manifest.getSize());
        if (offset >= end) {
            return 0;
        }
        buffer.limit(buffer.position() + (int) (end - offset));
        int read = 0;
        try {
            while (buffer.hasRemaining()) {
                int n = file.read(buffer, offset + read);
                if (n < 0) {
                    break;
                }
                read += n;
            }
        } catch (IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO, "cannot read the image in " + part + ": " + e.getMessage(), e);
        }
        return read;
    }

    /** The index of the chunk holding {@code offset}. */
    int indexOf(long offset) {
        int i = Arrays.binarySearch(offsets, offset);
        return i >= 0 ? i : -i - 2;
    }

    /** Writes the bitmap after syncing the data it claims, at most once a second unless {@code force}. */
    void syncNowAndThen(boolean force) throws DeliveryException {
        if (finished) {
            return;
        }
        byte[] snapshot;
        synchronized (this) {
            long now = System.nanoTime();
            if (!force && now - lastSync < SYNC_EVERY_NANOS) {
                return;
            }
            lastSync = now;
            snapshot = new byte[done.length];
            for (int i = 0; i < done.length; i++) {
                synchronized (lock(i)) {
                    snapshot[i] = done[i];
                }
            }
            try {
                // What the bitmap claims is on disk must be: the data first, then the bitmap.
                file.force(false);
                TrustStore.write(bitmap, snapshot);
            } catch (IOException e) {
                throw new DeliveryException(
                        DeliveryException.Kind.IO, "cannot record progress in " + bitmap + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * With every chunk there: checks the whole image against the signed hash and moves it to its final, read-only
     * name. Readers holding the store keep reading the same file.
     */
    Path finish() throws DeliveryException {
        if (finished) {
            return target;
        }
        syncNowAndThen(true);
        try {
            String whole = sha256();
            if (!whole.equals(manifest.getSha256())) {
                // Every chunk matched when it was written, so the file changed under us (a disk error): start over.
                Arrays.fill(done, (byte) 0);
                have.set(0);
                Files.deleteIfExists(bitmap);
                throw new DeliveryException(
                        DeliveryException.Kind.IO,
                        "the downloaded image's SHA-256 is " + whole + ", not the signed " + manifest.getSha256()
                                + ": the local disk changed it; run again to download it anew");
            }
            Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("r--r-----"));
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(bitmap);
            finished = true;
            return target;
        } catch (IOException e) {
            throw new DeliveryException(
                    DeliveryException.Kind.IO,
                    "cannot finish the image under " + target.getParent() + ": " + e.getMessage(),
                    e);
        }
    }

    @Override
    public void close() {
        try {
            if (!finished) {
                syncNowAndThen(true);
            }
        } catch (DeliveryException e) {
            // What was not recorded is fetched again next time.
        }
        try {
            file.close();
        } catch (IOException e) {
            // Nothing left to lose: the data was synced above.
        }
    }

    private Object lock(int index) {
        return locks[index % LOCKS];
    }

    private byte[] fetch(ImageChunk chunk) throws DeliveryException {
        String name = ImageManifests.hex(chunk.getSha256());
        byte[] bytes = TrustStore.ok(dispatch.chunk(name), "chunk " + name);
        byte[] digest = digest().digest(bytes);
        if (bytes.length != chunk.getLength()
                || !Arrays.equals(digest, chunk.getSha256().bytes())) {
            throw new DeliveryException(
                    DeliveryException.Kind.UNTRUSTED,
                    "the chunk at offset " + chunk.getOffset() + " (" + name + ") does not match the signed manifest"
                            + " (SHA-256 " + HexFormat.of().formatHex(digest) + "): refused; nothing was installed."
                            + " Tell the vendor: its object store serves altered data");
        }
        fetched.addAndGet(bytes.length);
        return bytes;
    }

    private String sha256() throws IOException {
        MessageDigest digest = digest();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(part)) {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
