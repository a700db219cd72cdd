package dev.vigil.agent.capture;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Turns makedumpfile's <em>flattened</em> stream (what QEMU writes for a kdump-compressed dump through libvirt) into
 * the regular kdump-compressed file that {@code crash} and triage read directly, as {@code makedumpfile -R} does. The
 * stream is a 4 KiB header ({@code makedumpfile} signature, type 1, version 1), then records of a big-endian
 * {@code int64 offset}, {@code int64 size} and {@code size} bytes to place at {@code offset}, ended by -1, -1.
 * Input is untrusted in the sense that a damaged stream must fail cleanly: offsets and sizes are bounded.
 */
public final class KdumpFlattened {

    static final byte[] SIGNATURE = "makedumpfile".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER_BYTES = 4096;
    private static final long MAX_RECORD_BYTES = 64L << 20;

    private KdumpFlattened() {}

    /** True when the file starts with the flattened stream's signature. */
    public static boolean isFlattened(Path file) throws IOException {
        byte[] head = new byte[SIGNATURE.length];
        try (InputStream in = Files.newInputStream(file)) {
            return in.readNBytes(head, 0, head.length) == head.length && Arrays.equals(head, SIGNATURE);
        }
    }

    /**
     * Rebuilds the regular file from a flattened stream.
     *
     * @param maxBytes the largest output accepted (the guest's memory size bounds a sane dump)
     * @throws IOException for a stream that is not flattened, is truncated, or places data beyond {@code maxBytes}
     */
    public static void unflatten(Path flattened, Path out, long maxBytes) throws IOException {
        try (DataInputStream in =
                        new DataInputStream(new BufferedInputStream(Files.newInputStream(flattened), 1 << 16));
                FileChannel target = FileChannel.open(
                        out,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE)) {
            byte[] header = new byte[HEADER_BYTES];
            in.readFully(header);
            ByteBuffer h = ByteBuffer.wrap(header);
            if (!Arrays.equals(Arrays.copyOf(header, SIGNATURE.length), SIGNATURE)
                    || h.getLong(16) != 1
                    || h.getLong(24) != 1) {
                throw new IOException("not a makedumpfile flattened stream (signature, type or version)");
            }
            byte[] buffer = new byte[1 << 16];
            while (true) {
                long offset;
                long size;
                try {
                    offset = in.readLong();
                    size = in.readLong();
                } catch (EOFException e) {
                    throw new IOException("flattened stream ends without its end marker");
                }
                if (offset == -1 && size == -1) {
                    return;
                }
                if (offset < 0 || size < 0 || size > MAX_RECORD_BYTES || offset > maxBytes - size) {
                    throw new IOException("flattened record out of bounds: offset " + offset + ", size " + size);
                }
                long position = offset;
                long left = size;
                while (left > 0) {
                    int n = (int) Math.min(buffer.length, left);
                    in.readFully(buffer, 0, n);
                    ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                    while (chunk.hasRemaining()) {
                        position += target.write(chunk, position);
                    }
                    left -= n;
                }
            }
        }
    }
}
