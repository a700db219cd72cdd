package dev.vigil.agent.capture;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A multipart upload that survives an agent restart or a lost connection: its upload id is kept in a state file
 * beside the blob, and a later attempt asks the store which parts it already holds, checks each one's ETag against
 * the MD5 of the local part, and sends only the rest. Where the parts go (the store's API with credentials, or
 * dispatch's signed links) is an {@link Upload}.
 */
final class ResumableUpload {

    static final long PART_BYTES = 16L << 20;

    /** A part the store holds: its number, size and ETag. */
    record StoredPart(int number, long size, String etag) {}

    /** One open multipart upload. */
    interface Upload {
        String id();

        /** The parts the store holds, by number. */
        Map<Integer, StoredPart> stored();

        /** Sends part {@code number}; returns its ETag. */
        String send(int number, byte[] data, int length) throws IOException;

        /** Makes the object from every part, in order. */
        void complete(List<StoredPart> parts) throws IOException;
    }

    private ResumableUpload() {}

    /** The upload an earlier attempt began for {@code key}, kept in {@code state}; null when there is none. */
    static String resumeId(Path state, String key) throws IOException {
        if (!Files.exists(state)) {
            return null;
        }
        String[] saved = Files.readString(state).split("\n");
        return saved.length == 2 && saved[0].equals(key) ? saved[1] : null;
    }

    /**
     * Stores {@code file} at {@code key} through {@code upload} (opened, or resumed from {@link #resumeId}).
     *
     * @param state where the upload id is kept between attempts (removed once the object is complete)
     * @return the bytes sent by this attempt
     */
    static long upload(Upload upload, Path file, String key, Path state) throws IOException {
        long size = Files.size(file);
        int parts = (int) Math.max(1, (size + PART_BYTES - 1) / PART_BYTES);
        if (!upload.id().equals(resumeId(state, key))) {
            Files.writeString(state, key + "\n" + upload.id());
            try (FileChannel channel = FileChannel.open(state, StandardOpenOption.READ)) {
                channel.force(true);
            }
        }
        Map<Integer, StoredPart> stored = upload.stored();
        long sent = 0;
        List<StoredPart> complete = new ArrayList<>(parts);
        // One part in memory at a time (16 MiB).
        byte[] buffer = new byte[(int) Math.min(PART_BYTES, Math.max(size, 1))];
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            for (int number = 1; number <= parts; number++) {
                long offset = (number - 1) * PART_BYTES;
                long length = Math.min(PART_BYTES, size - offset);
                StoredPart have = stored.get(number);
                if (have != null && have.size() == length && etagMatches(have.etag(), md5(file, offset, length))) {
                    complete.add(have);
                    continue;
                }
                in.seek(offset);
                in.readFully(buffer, 0, (int) length);
                complete.add(new StoredPart(number, length, upload.send(number, buffer, (int) length)));
                sent += length;
            }
        }
        upload.complete(complete);
        Files.deleteIfExists(state);
        return sent;
    }

    private static boolean etagMatches(String etag, String md5) {
        return etag != null && etag.replace("\"", "").toLowerCase(Locale.ROOT).equals(md5);
    }

    private static String md5(Path file, long offset, long length) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            in.skipNBytes(offset);
            MessageDigest digest = MessageDigest.getInstance("MD5");
            byte[] buffer = new byte[1 << 16];
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    break;
                }
                digest.update(buffer, 0, n);
                left -= n;
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
