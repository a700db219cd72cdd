package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.schemas.delivery.ImageManifests;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.MinioException;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/** Master image chunks in the vendor's object store, named by their SHA-256 ({@code chunks/sha256/<2 hex>/<hash>}). */
@ApplicationScoped
public class ChunkStore {

    private final MinioClient s3;
    private final String bucket;

    ChunkStore(MinioClient s3, DispatchConfig config) {
        this.s3 = s3;
        this.bucket = config.s3().bucket();
    }

    /** Stores a chunk whose hash was checked, unless the store has it already. */
    public void put(String sha256, byte[] bytes) throws IOException {
        String key = ImageManifests.objectKey(sha256);
        try {
            if (exists(key)) {
                return;
            }
            s3.putObject(PutObjectArgs.builder().bucket(bucket).object(key).stream(
                            new ByteArrayInputStream(bytes), (long) bytes.length, null)
                    .contentType("application/octet-stream")
                    .build());
        } catch (MinioException e) {
            throw new IOException("object store: " + e.getMessage(), e);
        }
    }

    /** A chunk's bytes as stored. */
    public InputStream open(String sha256) throws IOException {
        try {
            return s3.getObject(GetObjectArgs.builder()
                    .bucket(bucket)
                    .object(ImageManifests.objectKey(sha256))
                    .build());
        } catch (MinioException e) {
            throw new IOException("object store: chunk " + sha256 + ": " + e.getMessage(), e);
        }
    }

    /** A link that downloads a chunk for {@code ttl}, straight from the object store. */
    public String link(String sha256, Duration ttl) throws IOException {
        try {
            return s3.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                    .method(Http.Method.GET)
                    .bucket(bucket)
                    .object(ImageManifests.objectKey(sha256))
                    .expiry((int) ttl.toSeconds())
                    .build());
        } catch (MinioException e) {
            throw new IOException("object store: " + e.getMessage(), e);
        }
    }

    private boolean exists(String key) throws MinioException, IOException {
        try {
            s3.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
            return true;
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())
                    || "NoSuchObject".equals(e.errorResponse().code())) {
                return false;
            }
            throw e;
        }
    }
}
