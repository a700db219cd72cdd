package dev.vigil.triage.bucket;

import dev.vigil.triage.config.TriageConfig;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.MinioClient;
import io.minio.errors.ErrorResponseException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Set;

/** Reads evidence from the object store (bounded) and signs short-lived links to it for analysts. */
@ApplicationScoped
public class EvidenceStore {

    /** The object is not in the store: final, unlike a store that cannot be reached. */
    public static final class MissingEvidenceException extends IOException {
        MissingEvidenceException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Set<String> MISSING = Set.of("NoSuchKey", "NoSuchBucket", "NoSuchObject");

    private final MinioClient s3;
    private final String bucket;
    private final int maxBytes;
    private final Duration linkTtl;

    @Inject
    EvidenceStore(TriageConfig config) {
        this(
                MinioClient.builder()
                        .endpoint(config.s3().endpoint())
                        .credentials(config.s3().accessKey(), config.s3().secretKey())
                        .build(),
                config.s3().bucket(),
                config.triage().maxEvidenceBytes(),
                config.triage().linkTtl());
    }

    EvidenceStore(MinioClient s3, String bucket, int maxBytes, Duration linkTtl) {
        this.s3 = s3;
        this.bucket = bucket;
        this.maxBytes = maxBytes;
        this.linkTtl = linkTtl;
    }

    /**
     * The first {@code maxEvidenceBytes} of an object.
     *
     * @throws MissingEvidenceException when the store answers that the object is not there
     * @throws IOException when the store cannot be read just now (worth a retry)
     */
    public byte[] head(String objectKey) throws IOException {
        try (InputStream in = s3.getObject(GetObjectArgs.builder()
                .bucket(bucket)
                .object(objectKey)
                .offset(0L)
                .length((long) maxBytes)
                .build())) {
            return in.readNBytes(maxBytes);
        } catch (ErrorResponseException e) {
            String code = e.errorResponse() == null ? null : e.errorResponse().code();
            if (MISSING.contains(code)) {
                throw new MissingEvidenceException(objectKey + " is not in " + bucket + " (" + code + ")", e);
            }
            throw new IOException("reading " + objectKey + " from " + bucket + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException("reading " + objectKey + " from " + bucket + ": " + e.getMessage(), e);
        }
    }

    /**
     * The whole object, streamed.
     *
     * @throws MissingEvidenceException when the store answers that the object is not there
     * @throws IOException when the store cannot be read just now
     */
    public InputStream open(String objectKey) throws IOException {
        try {
            return s3.getObject(
                    GetObjectArgs.builder().bucket(bucket).object(objectKey).build());
        } catch (ErrorResponseException e) {
            String code = e.errorResponse() == null ? null : e.errorResponse().code();
            if (MISSING.contains(code)) {
                throw new MissingEvidenceException(objectKey + " is not in " + bucket + " (" + code + ")", e);
            }
            throw new IOException("reading " + objectKey + " from " + bucket + ": " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IOException("reading " + objectKey + " from " + bucket + ": " + e.getMessage(), e);
        }
    }

    /** A GET link to an object that works for the configured time. */
    public String link(String objectKey) {
        try {
            return s3.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                    .method(Http.Method.GET)
                    .bucket(bucket)
                    .object(objectKey)
                    .expiry((int) linkTtl.toSeconds())
                    .build());
        } catch (Exception e) {
            throw new IllegalStateException("signing a link to " + objectKey + ": " + e.getMessage(), e);
        }
    }
}
