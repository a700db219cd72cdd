package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.schemas.ObjectKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.minio.CompleteMultipartUploadArgs;
import io.minio.CreateMultipartUploadArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.ListMultipartUploadsArgs;
import io.minio.ListPartsArgs;
import io.minio.MinioAsyncClient;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.MinioException;
import io.minio.messages.ListPartsResult;
import io.minio.messages.Part;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Signs the links agents store their evidence through (ADR 0007): each link writes one object, under the asking host's
 * own prefix ({@link ObjectKeys}), for a limited time. Agents hold no object store credentials, so they can write
 * nothing else and read nothing at all. Small objects get one {@code PUT} link; larger ones a multipart upload that
 * dispatch opens, lists (so an agent resumes from the parts the store holds) and completes, with a link per part.
 */
@ApplicationScoped
public class EvidenceUploads {

    /** Objects up to this size go in one {@code PUT}; larger ones in parts of this size. */
    public static final long PART_BYTES = 16L << 20;

    /** S3 allows at most this many parts. */
    static final int MAX_PARTS = 10_000;

    /**
     * A part of a multipart upload and the link that sends it; {@code etag} is set when the store holds it already
     * (the agent compares it with its own bytes and sends the part again only if they differ).
     */
    public record PartPlan(int number, long size, String etag, String url) {}

    /**
     * What an agent does next for one object: nothing ({@code stored}), one {@code PUT} to {@code url}, or the parts
     * of upload {@code uploadId}.
     */
    public record UploadPlan(
            String bucket,
            String key,
            boolean stored,
            String url,
            String uploadId,
            Long partBytes,
            List<PartPlan> parts,
            Instant expiresAt) {}

    /** A stored object of a host's evidence. */
    public record StoredObject(String key, long size) {}

    /** A sent part, as its agent names it when completing. */
    public record SentPart(int number, String etag) {}

    private final MinioClient s3;
    private final MinioAsyncClient multipart;
    private final String bucket;
    private final String tenant;
    private final DispatchConfig.Uploads settings;
    private final Clock clock;
    private final MeterRegistry metrics;

    @Inject
    EvidenceUploads(MinioClient s3, DispatchConfig config, MeterRegistry metrics) {
        this(
                s3,
                MinioAsyncClient.builder()
                        .endpoint(config.s3().endpoint())
                        .credentials(config.s3().accessKey(), config.s3().secretKey())
                        .build(),
                config,
                Clock.systemUTC(),
                metrics);
    }

    EvidenceUploads(
            MinioClient s3, MinioAsyncClient multipart, DispatchConfig config, Clock clock, MeterRegistry metrics) {
        this.s3 = s3;
        this.multipart = multipart;
        this.metrics = metrics;
        this.settings = config.dispatch().uploads();
        this.bucket = settings.bucket();
        this.tenant = config.dispatch().enrolment().tenant();
        this.clock = clock;
    }

    /**
     * The plan for storing {@code size} bytes hashing to {@code sha256} as {@code host}'s object.
     *
     * @param uploadId a multipart upload the agent began before, to resume; null or one the store forgot starts
     *     another
     */
    public UploadPlan plan(String host, String sha256, long size, String uploadId) {
        String key = key(host, sha256);
        if (size <= 0 || size > settings.maxBytes()) {
            throw RefusedException.badRequest(
                    "Bad size", "size must be between 1 and " + settings.maxBytes() + " bytes, got " + size);
        }
        Instant expires = clock.instant().plus(settings.linkTtl());
        try {
            Long storedSize = storedSize(key);
            if (storedSize != null && storedSize == size) {
                planned("stored");
                return new UploadPlan(bucket, key, true, null, null, null, List.of(), null);
            }
            if (size <= PART_BYTES) {
                planned("put");
                return new UploadPlan(bucket, key, false, link(key, Map.of()), null, null, List.of(), expires);
            }
            Map<Integer, Part> stored = new HashMap<>();
            String id = uploadId == null || uploadId.isBlank() ? null : uploadId;
            if (id != null) {
                stored = parts(key, id);
                if (stored == null) {
                    id = null;
                    stored = new HashMap<>();
                }
            }
            if (id == null) {
                id = await(multipart.createMultipartUpload(CreateMultipartUploadArgs.builder()
                                .bucket(bucket)
                                .object(key)
                                .build()))
                        .result()
                        .uploadId();
            }
            int count = (int) ((size + PART_BYTES - 1) / PART_BYTES);
            List<PartPlan> parts = new ArrayList<>(count);
            for (int number = 1; number <= count; number++) {
                long length = Math.min(PART_BYTES, size - (number - 1) * PART_BYTES);
                Part have = stored.get(number);
                String url = link(key, Map.of("uploadId", id, "partNumber", Integer.toString(number)));
                parts.add(new PartPlan(
                        number, length, have != null && have.partSize() == length ? have.etag() : null, url));
            }
            planned("multipart");
            return new UploadPlan(bucket, key, false, null, id, PART_BYTES, parts, expires);
        } catch (IOException e) {
            throw unavailable(e);
        }
    }

    /** Completes {@code host}'s multipart upload from the parts it sent; returns the stored object. */
    public StoredObject complete(String host, String sha256, String uploadId, List<SentPart> sent) {
        String key = key(host, sha256);
        if (uploadId == null || uploadId.isBlank()) {
            throw RefusedException.badRequest("No upload", "name the uploadId the plan gave");
        }
        if (sent == null || sent.isEmpty() || sent.size() > MAX_PARTS) {
            throw RefusedException.badRequest(
                    "Bad parts", "name every part (1 to " + MAX_PARTS + ") with the ETag the store answered");
        }
        Part[] parts = new Part[sent.size()];
        for (int i = 0; i < parts.length; i++) {
            SentPart part = sent.get(i);
            if (part == null
                    || part.number() != i + 1
                    || part.etag() == null
                    || part.etag().isBlank()) {
                throw RefusedException.badRequest(
                        "Bad parts", "parts must be numbered 1.." + parts.length + " in order, each with its ETag");
            }
            parts[i] = new Part(part.number(), part.etag());
        }
        try {
            if (parts(key, uploadId) == null) {
                throw RefusedException.notFound(
                        "No such upload", "the store has no upload " + bounded(uploadId) + " of " + key);
            }
            await(multipart.completeMultipartUpload(CompleteMultipartUploadArgs.builder()
                    .bucket(bucket)
                    .object(key)
                    .uploadId(uploadId)
                    .parts(parts)
                    .build()));
            Long size = storedSize(key);
            if (size == null) {
                throw new IOException("the store did not keep " + key + " after completing it");
            }
            metrics.counter("vigil.dispatch.uploads.completed").increment();
            return new StoredObject(key, size);
        } catch (IOException e) {
            String message = e.getMessage() == null ? "" : e.getMessage();
            if (message.contains("NoSuchUpload")) {
                throw RefusedException.notFound(
                        "No such upload", "the store has no upload " + bounded(uploadId) + " of " + key);
            }
            if (message.contains("InvalidPart") || message.contains("EntityTooSmall")) {
                throw RefusedException.unprocessable("Parts do not match", message);
            }
            throw unavailable(e);
        }
    }

    private void planned(String answer) {
        metrics.counter("vigil.dispatch.uploads.planned", "answer", answer).increment();
    }

    private String key(String host, String sha256) {
        if (!ObjectKeys.isSha256(sha256)) {
            throw RefusedException.badRequest(
                    "Bad hash", "sha256 must be 64 lower-case hex digits, got " + bounded(sha256));
        }
        return ObjectKeys.evidence(tenant, host, sha256);
    }

    private String link(String key, Map<String, String> query) throws IOException {
        try {
            return s3.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                    .method(Http.Method.PUT)
                    .bucket(bucket)
                    .object(key)
                    .extraQueryParams(query)
                    .expiry((int) settings.linkTtl().toSeconds())
                    .build());
        } catch (MinioException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The stored object's size, or null when there is none. */
    private Long storedSize(String key) throws IOException {
        try {
            return s3.statObject(
                            StatObjectArgs.builder().bucket(bucket).object(key).build())
                    .size();
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())
                    || "NoSuchObject".equals(e.errorResponse().code())
                    || e.response().code() == 404) {
                return null;
            }
            throw new IOException(e.getMessage(), e);
        } catch (MinioException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The parts the store holds of an upload, or null when it has no such upload (expired, completed, aborted). */
    private Map<Integer, Part> parts(String key, String uploadId) throws IOException {
        // Some stores list the parts of an upload they never had as none; the list of open uploads is what counts.
        boolean open = await(multipart.listMultipartUploads(ListMultipartUploadsArgs.builder()
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
        Map<Integer, Part> parts = new HashMap<>();
        Integer marker = null;
        while (true) {
            ListPartsArgs.Builder args =
                    ListPartsArgs.builder().bucket(bucket).object(key).uploadId(uploadId);
            if (marker != null) {
                args.partNumberMarker(marker);
            }
            ListPartsResult result;
            try {
                result = await(multipart.listParts(args.build())).result();
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().contains("NoSuchUpload")) {
                    return null;
                }
                throw e;
            }
            for (Part p : result.parts()) {
                parts.put(p.partNumber(), p);
            }
            if (!result.isTruncated() || result.nextPartNumberMarker() == null) {
                return parts;
            }
            marker = result.nextPartNumberMarker();
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

    private static RefusedException unavailable(IOException e) {
        return new RefusedException(
                RefusedException.Why.UNAVAILABLE,
                "Object store unavailable",
                "the object store did not answer (" + e.getMessage() + "): ask again");
    }

    private static String bounded(String value) {
        if (value == null) {
            return "nothing";
        }
        return value.length() <= 80 ? "'" + value + "'" : "'" + value.substring(0, 80) + "...'";
    }
}
