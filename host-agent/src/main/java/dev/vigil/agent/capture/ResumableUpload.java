package dev.vigil.agent.capture;

import io.minio.CompleteMultipartUploadArgs;
import io.minio.CreateMultipartUploadArgs;
import io.minio.ListPartsArgs;
import io.minio.MinioAsyncClient;
import io.minio.UploadPartArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.ListPartsResult;
import io.minio.messages.Part;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A multipart upload that survives an agent restart or a lost connection: its upload id is kept in a state file
 * beside the blob, and a later attempt asks the store which parts it already holds, checks each one's ETag against
 * the MD5 of the local part, and sends only the rest.
 */
final class ResumableUpload {

    static final long PART_BYTES = 16L << 20;

    private final MinioAsyncClient s3;
    private final String bucket;

    ResumableUpload(MinioAsyncClient s3, String bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    /**
     * Stores {@code file} at {@code key}.
     *
     * @param state where the upload id is kept between attempts (removed once the object is complete)
     * @return the bytes sent by this attempt
     */
    long upload(Path file, String key, Path state) throws IOException {
        long size = Files.size(file);
        int parts = (int) Math.max(1, (size + PART_BYTES - 1) / PART_BYTES);
        String uploadId = null;
        Map<Integer, Part> stored = new HashMap<>();
        if (Files.exists(state)) {
            String[] saved = Files.readString(state).split("\n");
            if (saved.length == 2 && saved[0].equals(key)) {
                uploadId = saved[1];
                try {
                    stored = listParts(key, uploadId);
                } catch (IOException e) {
                    if (!e.getMessage().contains("NoSuchUpload")) {
                        throw e;
                    }
                    uploadId = null; // the store forgot it (expired or aborted): start over
                }
            }
        }
        if (uploadId == null) {
            uploadId = await(s3.createMultipartUpload(CreateMultipartUploadArgs.builder()
                            .bucket(bucket)
                            .object(key)
                            .build()))
                    .result()
                    .uploadId();
            Files.writeString(state, key + "\n" + uploadId);
            try (FileChannel channel = FileChannel.open(state, StandardOpenOption.READ)) {
                channel.force(true);
            }
            stored = Map.of();
        }
        long sent = 0;
        Part[] complete = new Part[parts];
        // One part in memory at a time (16 MiB): the SDK signs and sends the same bytes.
        byte[] buffer = new byte[(int) Math.min(PART_BYTES, Math.max(size, 1))];
        try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
            for (int number = 1; number <= parts; number++) {
                long offset = (number - 1) * PART_BYTES;
                long length = Math.min(PART_BYTES, size - offset);
                Part have = stored.get(number);
                if (have != null && have.partSize() == length && etagMatches(have.etag(), md5(file, offset, length))) {
                    complete[number - 1] = new Part(number, have.etag());
                    continue;
                }
                in.seek(offset);
                in.readFully(buffer, 0, (int) length);
                var response = await(s3.uploadPart(UploadPartArgs.builder()
                        .bucket(bucket)
                        .object(key)
                        .uploadId(uploadId)
                        .partNumber(number)
                        .data(buffer, (int) length)
                        .build()));
                complete[number - 1] = new Part(number, response.part().etag());
                sent += length;
            }
        }
        await(s3.completeMultipartUpload(CompleteMultipartUploadArgs.builder()
                .bucket(bucket)
                .object(key)
                .uploadId(uploadId)
                .parts(complete)
                .build()));
        Files.deleteIfExists(state);
        return sent;
    }

    private Map<Integer, Part> listParts(String key, String uploadId) throws IOException {
        Map<Integer, Part> parts = new HashMap<>();
        Integer marker = null;
        while (true) {
            ListPartsArgs.Builder args =
                    ListPartsArgs.builder().bucket(bucket).object(key).uploadId(uploadId);
            if (marker != null) {
                args.partNumberMarker(marker);
            }
            ListPartsResult result = await(s3.listParts(args.build())).result();
            for (Part p : result.parts()) {
                parts.put(p.partNumber(), p);
            }
            if (!result.isTruncated() || result.nextPartNumberMarker() == null) {
                return parts;
            }
            marker = result.nextPartNumberMarker();
        }
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

    private static <T> T await(CompletableFuture<T> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String code = cause instanceof ErrorResponseException error
                    ? error.errorResponse().code() + ": "
                    : "";
            throw new IOException(code + cause.getMessage(), cause);
        }
    }
}
