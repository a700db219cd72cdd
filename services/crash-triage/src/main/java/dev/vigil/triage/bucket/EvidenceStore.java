package dev.vigil.triage.bucket;

import dev.vigil.triage.config.TriageConfig;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.MinioClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;

/** Reads evidence from the object store (bounded) and signs short-lived links to it for analysts. */
@ApplicationScoped
public class EvidenceStore {

    private final MinioClient s3;
    private final TriageConfig config;

    EvidenceStore(TriageConfig config) {
        this.config = config;
        this.s3 = MinioClient.builder()
                .endpoint(config.s3().endpoint())
                .credentials(config.s3().accessKey(), config.s3().secretKey())
                .build();
    }

    /** The first {@code maxEvidenceBytes} of an object. */
    public byte[] head(String objectKey) throws IOException {
        try (InputStream in = s3.getObject(GetObjectArgs.builder()
                .bucket(config.s3().bucket())
                .object(objectKey)
                .offset(0L)
                .length((long) config.triage().maxEvidenceBytes())
                .build())) {
            return in.readNBytes(config.triage().maxEvidenceBytes());
        } catch (Exception e) {
            throw new IOException(
                    "reading " + objectKey + " from " + config.s3().bucket() + ": " + e.getMessage(), e);
        }
    }

    /** A GET link to an object that works for the configured time. */
    public String link(String objectKey) {
        try {
            return s3.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                    .method(Http.Method.GET)
                    .bucket(config.s3().bucket())
                    .object(objectKey)
                    .expiry((int) config.triage().linkTtl().toSeconds())
                    .build());
        } catch (Exception e) {
            throw new IllegalStateException("signing a link to " + objectKey + ": " + e.getMessage(), e);
        }
    }
}
