package dev.vigil.ingestion.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The object store agents upload blobs to ({@code vigil.s3.*}; from the environment or a Kubernetes Secret). */
@ConfigMapping(prefix = "vigil.s3")
public interface S3Config {

    /** The S3 endpoint, e.g. https://minio.example:9000. */
    String endpoint();

    /** The access key ingestion reads with (read-only is enough). */
    String accessKey();

    /** The secret key that goes with the access key. */
    String secretKey();

    /** The evidence bucket, where agents store feedback screenshots (their manifests name a crash artifact's own). */
    @WithDefault("vigil-artifacts")
    String bucket();
}
