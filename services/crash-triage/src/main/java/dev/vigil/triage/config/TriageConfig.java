package dev.vigil.triage.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
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

        /**
         * The most seconds a merge or an unmerge may take: each rebuilds the roll-ups of the buckets it touches,
         * about 48 s a million reports, where other transactions keep the 60 s default.
         */
        @WithName("curation-timeout")
        @WithDefault("1800")
        int curationTimeout();

        /** Ingestion's base URL, for the uptime ledger behind crash rates; unset means no rates. */
        @WithName("uptime-url")
        java.util.Optional<String> uptimeUrl();

        /**
         * The AES-256 keys agents encrypt evidence with (base64, from a Secret; never committed), so triage reads
         * sealed evidence. Keep a retired key listed while evidence sealed with it may still be triaged: each blob's
         * manifest names the id of the key that sealed it.
         */
        @WithName("evidence-keys")
        java.util.Optional<java.util.List<String>> evidenceKeys();

        /** How long triage waits for the uptime ledger, and how much of its answer it reads. */
        Uptime uptime();

        /** When a bucket counts as a regression in a release. */
        Regression regression();

        /**
         * A signature rules file (the format of the built-in {@code rules.json}) used instead of the built-in rules
         * and re-read when it changes; unset means the built-in rules.
         */
        @WithName("rules-file")
        java.util.Optional<String> rulesFile();

        /** Progressive collection of memory dumps per bucket. */
        Collection collection();

        /**
         * How often a crash report is tried before it goes to the dead-letter topic with its reason: transient
         * failures (the object store or the database unreachable) are retried in place, the first after
         * {@link #retryBackoff()} and each next after twice as long.
         */
        @WithName("retry-attempts")
        @io.smallrye.config.WithDefault("6")
        int retryAttempts();

        @WithName("retry-backoff")
        @io.smallrye.config.WithDefault("1s")
        Duration retryBackoff();

        /**
         * How often the outbox is swept for triage events that a crash or an unreachable broker left behind (each
         * commit relays its own at once); a scheduler expression such as {@code 10s}.
         */
        @WithName("outbox-sweep")
        @WithDefault("10s")
        String outboxSweep();
    }

    interface Uptime {
        /** The most time opening a connection to ingestion may take. */
        @WithName("connect-timeout")
        @WithDefault("2s")
        Duration connectTimeout();

        /** The most time ingestion may stay silent once asked. */
        @WithName("read-timeout")
        @WithDefault("4s")
        Duration readTimeout();

        /** The most time one question may take in all, connecting and reading included; then there is no rate. */
        @WithDefault("5s")
        Duration timeout();

        /** The largest answer read, in bytes; a larger one is refused before it is read through, and gives no rate. */
        @WithName("max-bytes")
        @WithDefault("4194304")
        int maxBytes();

        /** The circuit breaker judges this many latest questions and opens when half of them failed. */
        @WithName("breaker-window")
        @WithDefault("4")
        int breakerWindow();

        /** How long an open breaker answers "no rate" without asking, before one question tries ingestion again. */
        @WithName("breaker-delay")
        @WithDefault("30s")
        Duration breakerDelay();
    }

    interface Collection {
        /** Reports with a full memory dump a bucket collects; its hosts are asked for none after that. */
        @WithName("full-dumps")
        @WithDefault("5")
        int fullDumps();
    }

    interface Regression {
        /** The significance level of the rate comparison (one-sided conditional binomial test). */
        @WithDefault("0.01")
        double significance();

        /** The smallest rate ratio (new release over previous) worth a verdict; the test's null hypothesis. */
        @WithName("min-rate-ratio")
        @WithDefault("1.5")
        double minRateRatio();

        /** The VM-hours a release needs before its rates are compared at all. */
        @WithName("min-vm-hours")
        @WithDefault("1000")
        double minVmHours();

        /** How often the sweep re-judges releases (exposure grows without new crashes). */
        @WithName("sweep-every")
        @WithDefault("1h")
        String sweepEvery();

        /** The sweep judges releases with a report this recent. */
        @WithName("sweep-within")
        @WithDefault("P90D")
        Duration sweepWithin();

        /** How long a release's VM-hours are reused when judging at filing time. */
        @WithName("exposure-ttl")
        @WithDefault("PT1M")
        Duration exposureTtl();
    }
}
