package dev.vigil.agent.capture;

import io.minio.CompleteMultipartUploadArgs;
import io.minio.CreateMultipartUploadArgs;
import io.minio.ListMultipartUploadsArgs;
import io.minio.ListPartsArgs;
import io.minio.MinioAsyncClient;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.UploadObjectArgs;
import io.minio.UploadPartArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.messages.ListPartsResult;
import io.minio.messages.Part;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Evidence stored with the object store's own credentials ({@code S3_ACCESS_KEY}): for a host trusted with them, such
 * as a single-machine setup. An enrolled fleet uses {@link LinkStore} instead and holds no credentials.
 */
final class DirectStore implements EvidenceStore {

    private final MinioClient s3;
    private final MinioAsyncClient async;
    private final String bucket;

    DirectStore(String endpoint, String accessKey, String secretKey, String bucket) {
        this.s3 = MinioClient.builder()
                .endpoint(endpoint)
                .credentials(accessKey, secretKey)
                .build();
        this.async = MinioAsyncClient.builder()
                .endpoint(endpoint)
                .credentials(accessKey, secretKey)
                .build();
        this.bucket = bucket;
    }

    @Override
    public Stored put(Path file, String key, String sha256, String contentType, Path uploadState) throws IOException {
        long size = Files.size(file);
        if (storedAlready(key, size)) {
            return new Stored(bucket, true, 0);
        }
        if (size > ResumableUpload.PART_BYTES) {
            ResumableUpload.Upload upload = open(key, ResumableUpload.resumeId(uploadState, key));
            return new Stored(bucket, false, ResumableUpload.upload(upload, file, key, uploadState));
        }
        try {
            s3.uploadObject(UploadObjectArgs.builder()
                    .bucket(bucket)
                    .object(key)
                    .filename(file.toString())
                    .contentType(contentType)
                    .build());
        } catch (Exception e) {
            throw new IOException(e.getMessage(), e);
        }
        return new Stored(bucket, false, size);
    }

    @Override
    public String describe() {
        return "bucket " + bucket;
    }

    /** Resumes upload {@code resumeId} of {@code key}, or opens another when there is none or the store forgot it. */
    ResumableUpload.Upload open(String key, String resumeId) throws IOException {
        if (resumeId != null) {
            Map<Integer, ResumableUpload.StoredPart> parts = listParts(key, resumeId);
            if (parts != null) {
                return new Upload(key, resumeId, parts);
            }
        }
        String id = await(async.createMultipartUpload(CreateMultipartUploadArgs.builder()
                        .bucket(bucket)
                        .object(key)
                        .build()))
                .result()
                .uploadId();
        return new Upload(key, id, Map.of());
    }

    private final class Upload implements ResumableUpload.Upload {
        private final String key;
        private final String id;
        private final Map<Integer, ResumableUpload.StoredPart> stored;

        Upload(String key, String id, Map<Integer, ResumableUpload.StoredPart> stored) {
            this.key = key;
            this.id = id;
            this.stored = stored;
        }

        @Override
        public String id() {
            return id;
        }

        @Override
        public Map<Integer, ResumableUpload.StoredPart> stored() {
            return stored;
        }

        @Override
        public String send(int number, byte[] data, int length) throws IOException {
            return await(async.uploadPart(UploadPartArgs.builder()
                            .bucket(bucket)
                            .object(key)
                            .uploadId(id)
                            .partNumber(number)
                            .data(data, length)
                            .build()))
                    .part()
                    .etag();
        }

        @Override
        public void complete(List<ResumableUpload.StoredPart> parts) throws IOException {
            await(async.completeMultipartUpload(CompleteMultipartUploadArgs.builder()
                    .bucket(bucket)
                    .object(key)
                    .uploadId(id)
                    .parts(parts.stream()
                            .map(p -> new Part(p.number(), p.etag()))
                            .toArray(Part[]::new))
                    .build()));
        }
    }

    /** The parts the store holds, or null when it forgot the upload (expired or aborted). */
    private Map<Integer, ResumableUpload.StoredPart> listParts(String key, String uploadId) throws IOException {
        // Some stores list the parts of an upload they never had as none; the list of open uploads is what counts.
        boolean open = await(async.listMultipartUploads(ListMultipartUploadsArgs.builder()
                        .bucket(bucket)
                        .prefix(key)
                        .build()))
                .result()
                .uploads()
                .stream()
                .anyMatch(u -> key.equals(u.objectName()) && uploadId.equals(u.uploadId()));
        if (!open) {
            return null;
        }
        Map<Integer, ResumableUpload.StoredPart> parts = new HashMap<>();
        Integer marker = null;
        while (true) {
            ListPartsArgs.Builder args =
                    ListPartsArgs.builder().bucket(bucket).object(key).uploadId(uploadId);
            if (marker != null) {
                args.partNumberMarker(marker);
            }
            ListPartsResult result;
            try {
                result = await(async.listParts(args.build())).result();
            } catch (IOException e) {
                if (e.getMessage().contains("NoSuchUpload")) {
                    return null;
                }
                throw e;
            }
            for (Part p : result.parts()) {
                parts.put(p.partNumber(), new ResumableUpload.StoredPart(p.partNumber(), p.partSize(), p.etag()));
            }
            if (!result.isTruncated() || result.nextPartNumberMarker() == null) {
                return parts;
            }
            marker = result.nextPartNumberMarker();
        }
    }

    private boolean storedAlready(String key, long size) throws IOException {
        try {
            return s3.statObject(StatObjectArgs.builder()
                                    .bucket(bucket)
                                    .object(key)
                                    .build())
                            .size()
                    == size;
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())
                    || "NoSuchObject".equals(e.errorResponse().code())
                    || e.response().code() == 404) {
                return false;
            }
            throw new IOException("asking " + bucket + " for " + key + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException("asking " + bucket + " for " + key + ": " + e.getMessage(), e);
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
