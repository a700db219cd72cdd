package dev.vigil.ingestion.service;

import dev.vigil.ingestion.config.IngestionConfig;
import dev.vigil.ingestion.config.S3Config;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.Http;
import io.minio.MinioClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;

/** Signs short-lived GET links to feedback screenshots in the evidence bucket, for analysts' browsers. */
@ApplicationScoped
public class ScreenshotLinkService {

    private static final System.Logger LOG = System.getLogger(ScreenshotLinkService.class.getName());

    private final MinioClient s3;
    private final String bucket;
    private final Duration ttl;

    ScreenshotLinkService(MinioClient s3, S3Config store, IngestionConfig config) {
        this.s3 = s3;
        this.bucket = store.bucket();
        this.ttl = config.screenshotLinkTtl();
    }

    /**
     * A link to the object at {@code key}, or null when there is no key or the link cannot be signed just now (the
     * client asks the store for the bucket's region once): the feedback is still listed, with its key.
     */
    public String link(String key) {
        if (key == null) {
            return null;
        }
        try {
            return s3.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
                    .method(Http.Method.GET)
                    .bucket(bucket)
                    .object(key)
                    .expiry((int) ttl.toSeconds())
                    .build());
        } catch (Exception e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    "cannot sign a link to screenshot " + key + " in " + bucket + ": " + e.getMessage());
            return null;
        }
    }
}
