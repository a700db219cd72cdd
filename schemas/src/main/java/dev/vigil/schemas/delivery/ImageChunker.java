package dev.vigil.schemas.delivery;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts an image into content-defined chunks (FastCDC: a gear rolling hash with normalized chunking): a boundary
 * depends only on the bytes just before it, so an edit or an insertion changes the chunks around it and leaves the
 * others as they were. A new release that shares most blocks with the last one shares most chunks, and only the
 * rest is uploaded and downloaded. The boundaries are part of the contract ({@link #ALGORITHM}): vendors' tools and
 * dispatch must cut the same bytes the same way.
 */
public final class ImageChunker {

    /** The chunking named in {@link Chunking#getAlgorithm()}; changing any constant here needs a new name. */
    public static final String ALGORITHM = "fastcdc-gear-sha256/1";

    public static final int MIN_SIZE = 256 * 1024;
    public static final int AVERAGE_SIZE = 1024 * 1024;
    public static final int MAX_SIZE = 4 * 1024 * 1024;

    /** Harder to match before the average size (two bits more than log2 of it), easier after (two bits fewer). */
    private static final long MASK_SMALL = -1L << (64 - 22);

    private static final long MASK_LARGE = -1L << (64 - 18);
    private static final long[] GEAR = gear();

    /** One chunk as it is cut; {@code bytes} is only valid during the callback. */
    @FunctionalInterface
    public interface ChunkSink {
        void accept(long offset, byte[] sha256, byte[] bytes, int from, int length) throws IOException;
    }

    /** A chunk's place and hash. */
    public record Chunk(long offset, int length, byte[] sha256) {}

    private ImageChunker() {}

    /** The parameters this chunker is described by in a manifest. */
    public static Chunking chunking() {
        return Chunking.newBuilder()
                .setAlgorithm(ALGORITHM)
                .setMinSize(MIN_SIZE)
                .setAverageSize(AVERAGE_SIZE)
                .setMaxSize(MAX_SIZE)
                .build();
    }

    /** Cuts everything {@code in} holds, returning the chunks in order. */
    public static List<Chunk> chunks(InputStream in) throws IOException {
        List<Chunk> chunks = new ArrayList<>();
        chunk(in, (offset, sha256, bytes, from, length) -> chunks.add(new Chunk(offset, length, sha256)));
        return chunks;
    }

    /** Cuts everything {@code in} holds and hands each chunk to {@code sink}, in order; returns the bytes read. */
    public static long chunk(InputStream in, ChunkSink sink) throws IOException {
        MessageDigest sha256 = sha256();
        byte[] buffer = new byte[2 * MAX_SIZE];
        int start = 0;
        int end = 0;
        long offset = 0;
        boolean eof = false;
        while (true) {
            // Cut only with a whole maximum chunk in view (or the end of the input): a cut must not depend on reads.
            if (!eof && end - start < MAX_SIZE) {
                if (start > 0) {
                    System.arraycopy(buffer, start, buffer, 0, end - start);
                    end -= start;
                    start = 0;
                }
                while (end < buffer.length) {
                    int n = in.read(buffer, end, buffer.length - end);
                    if (n < 0) {
                        eof = true;
                        break;
                    }
                    end += n;
                }
                continue;
            }
            if (start == end) {
                return offset;
            }
            int length = cut(buffer, start, end - start);
            sha256.update(buffer, start, length);
            sink.accept(offset, sha256.digest(), buffer, start, length);
            offset += length;
            start += length;
        }
    }

    /** The length of the chunk that starts at {@code from}, given {@code available} bytes (all, or at least max). */
    static int cut(byte[] data, int from, int available) {
        if (available <= MIN_SIZE) {
            return available;
        }
        int limit = Math.min(available, MAX_SIZE);
        int normal = Math.min(AVERAGE_SIZE, limit);
        long hash = 0;
        int i = MIN_SIZE;
        for (; i < normal; i++) {
            hash = (hash << 1) + GEAR[data[from + i] & 0xff];
            if ((hash & MASK_SMALL) == 0) {
                return i + 1;
            }
        }
        for (; i < limit; i++) {
            hash = (hash << 1) + GEAR[data[from + i] & 0xff];
            if ((hash & MASK_LARGE) == 0) {
                return i + 1;
            }
        }
        return limit;
    }

    /** 256 pseudo-random words from SHA-256, so the table is defined by this text and not by a library's PRNG. */
    private static long[] gear() {
        long[] table = new long[256];
        MessageDigest digest = sha256();
        for (int i = 0; i < table.length; i++) {
            byte[] hash = digest.digest(("vigil-gear-" + i).getBytes(StandardCharsets.US_ASCII));
            table[i] = ByteBuffer.wrap(hash).order(ByteOrder.BIG_ENDIAN).getLong();
        }
        return table;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
