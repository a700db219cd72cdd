package dev.vigil.triage.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithName;
import java.time.Duration;

/** Crash triage's own settings ({@code vigil.*}). */
@ConfigMapping(prefix = "vigil")
public interface TriageConfig {

    S3 s3();

    Triage triage();

    /** The object store agents upload evidence to. */
    interface S3 {
        /** The S3 endpoint. */
        String endpoint();

        /** The access key triage reads and signs links with (read-only is enough). */
        @WithName("access-key")
        String accessKey();

        /** The secret key that goes with it. */
        @WithName("secret-key")
        String secretKey();

        /** The bucket evidence is in. */
        String bucket();
    }

    interface Triage {
        /** How long an analyst's artifact link works. */
        @WithName("link-ttl")
        Duration linkTtl();

        /** The most evidence bytes read for one report (console text, the head of a dump). */
        @WithName("max-evidence-bytes")
        int maxEvidenceBytes();

        /** Ingestion's base URL, for the uptime ledger behind crash rates; unset means no rates. */
        @WithName("uptime-url")
        java.util.Optional<String> uptimeUrl();
    }
}
