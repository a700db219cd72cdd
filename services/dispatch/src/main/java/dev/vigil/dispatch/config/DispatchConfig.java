package dev.vigil.dispatch.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Dispatch's own settings ({@code vigil.*}). */
@ConfigMapping(prefix = "vigil")
public interface DispatchConfig {

    S3 s3();

    Dispatch dispatch();

    /** The vendor's object store, where master image chunks live. */
    interface S3 {
        /** The S3 endpoint. */
        String endpoint();

        /** The access key dispatch stores chunks and signs download links with. */
        @WithName("access-key")
        String accessKey();

        /** The secret key that goes with it. */
        @WithName("secret-key")
        String secretKey();

        /** The bucket chunks are stored in. */
        @WithDefault("vigil-vendor-artifacts")
        String bucket();
    }

    interface Dispatch {
        /** The signing keys of each role, from the environment or a mounted Secret; never committed. */
        Keys keys();

        /** How long each kind of signed metadata lives before it must be re-signed. */
        Expiry expiry();

        /** Beta enrolment. */
        Enrolment enrolment();

        /** Commands to agents. */
        Commands commands();

        /** Licenses. */
        Licenses licenses();

        /** Staged rollouts. */
        Rollouts rollouts();

        /** Upload links for agents' evidence. */
        Uploads uploads();

        /** Agents' Kafka client certificates, issued from the enrolment CA. */
        @WithName("agent-certificates")
        AgentCertificates agentCertificates();

        /** How long an agent's chunk download link works. */
        @WithName("chunk-link-ttl")
        @WithDefault("PT15M")
        Duration chunkLinkTtl();

        /**
         * Ingestion's base URL: hosts its fleet inventory knows may receive commands although they never enrolled
         * through dispatch. Unset means only enrolled hosts.
         */
        @WithName("ingestion-url")
        Optional<String> ingestionUrl();
    }

    /**
     * Signing keys as PEM text (a PRIVATE KEY and a PUBLIC KEY block each, as {@code vigil keys generate} writes
     * them), or {@code file:} and a path to such text. Several keys of a role are separated by commas. The first
     * root starts from these; rotation makes a new root that names others (which must be configured too).
     */
    interface Keys {
        /** Root keys: sign root metadata, and so every key rotation. Keep them offline where you can. */
        List<String> root();

        /** Targets keys: sign the releases of each product and rendered domain definitions. */
        List<String> targets();

        /** Snapshot keys. */
        List<String> snapshot();

        /** Timestamp keys: re-signed often, so online. */
        List<String> timestamp();

        /** Command keys: agents pin these (VIGIL_AGENT_VENDOR_KEYS). */
        List<String> commands();

        /** License keys. */
        List<String> licenses();
    }

    interface Expiry {
        /** Root metadata lifetime. */
        @WithDefault("P365D")
        Duration root();

        /** A product's targets lifetime. */
        @WithDefault("P90D")
        Duration targets();

        /** Snapshot lifetime. */
        @WithDefault("P7D")
        Duration snapshot();

        /** Timestamp lifetime: an agent that sees no newer timestamp for this long knows the repository froze. */
        @WithDefault("P1D")
        Duration timestamp();

        /** How often expiring metadata is checked and re-signed (when less than half its lifetime is left). */
        @WithName("refresh-every")
        @WithDefault("10m")
        String refreshEvery();
    }

    interface Enrolment {
        /** How long an enrolment token can be redeemed. */
        @WithName("token-ttl")
        @WithDefault("P7D")
        Duration tokenTtl();

        /** The URL agents reach dispatch at, shown on the enrolment page; unset means the page's own origin. */
        @WithName("public-url")
        Optional<String> publicUrl();

        /**
         * The tenant hosts that enrol here report as: their record keys (ADR 0007) are this tenant's, and an
         * ingestion refuses their records under any other.
         */
        @WithDefault("default")
        String tenant();
    }

    /**
     * Agents store evidence through links dispatch signs (ADR 0007), never with the object store's credentials: each
     * link writes one object under the asking host's own prefix.
     */
    interface Uploads {
        /** The bucket agents' evidence goes to, where ingestion and crash triage read it. */
        @WithDefault("vigil-artifacts")
        String bucket();

        /** How long an upload link works: long enough for a slow link to send a 16 MiB part. */
        @WithName("link-ttl")
        @WithDefault("PT1H")
        Duration linkTtl();

        /** The largest object an agent may store (a full memory dump of a large VM). */
        @WithName("max-bytes")
        @WithDefault("68719476736")
        long maxBytes();
    }

    /**
     * The enrolment CA: dispatch signs each enrolled host's Kafka client certificate with it (ADR 0007). It is a CA the
     * Kafka cluster trusts for client authentication (an intermediate of the cluster's clients CA). Unset means dispatch
     * issues no certificates, and agents use the one their configuration names.
     */
    interface AgentCertificates {
        /**
         * A PKCS#12 key store with one key entry: the CA's private key and its certificate chain, from the environment
         * or a mounted Secret; never committed.
         */
        Optional<String> keystore();

        /** The key store's password (and its key's). */
        Optional<String> password();

        /**
         * How long an agent's certificate is valid. Agents ask for a new one at half its life, with their lease
         * renewals; a revoked host's last certificate is dead at most this long after its revocation.
         */
        @WithDefault("P2D")
        Duration validity();
    }

    interface Commands {
        /** How long an operator's command stays valid when the request names no expiry. */
        @WithName("default-ttl")
        @WithDefault("PT1H")
        Duration defaultTtl();

        /** The longest expiry an operator may ask for. */
        @WithName("max-ttl")
        @WithDefault("P7D")
        Duration maxTtl();

        /** How often unacknowledged commands are checked for expiry. */
        @WithName("sweep-every")
        @WithDefault("5s")
        String sweepEvery();

        /**
         * The longest an agent's request for its commands waits for one (a long poll); agents ask for less, and ask
         * again when it ends. Below the idle timeouts of the proxies between agents and dispatch.
         */
        @WithName("longest-wait")
        @WithDefault("PT30S")
        Duration longestWait();

        /** How long a SET_COLLECTION_POLICY command made from crash triage's requests stays valid. */
        @WithName("collection-ttl")
        @WithDefault("P7D")
        Duration collectionTtl();
    }

    interface Licenses {
        /** How long a lease lasts before the agent must renew it. */
        @WithDefault("PT24H")
        Duration lease();

        /** How long an agent that cannot reach dispatch keeps running after its lease ran out. */
        @WithDefault("P3D")
        Duration grace();
    }

    interface Rollouts {
        /** How often running rollouts are judged. */
        @WithName("check-every")
        @WithDefault("1m")
        String checkEvery();

        /** Crash triage's base URL, for release health. Without it no rollout advances (none is judged). */
        @WithName("triage-url")
        Optional<String> triageUrl();

        /** The window of UTC days both releases' crash rates are measured over. */
        @WithDefault("P30D")
        Duration window();

        /** Default stages, as percentages of the channel's enrolled hosts. */
        @WithDefault("1,10,50,100")
        List<Integer> stages();

        /** Default VM-hours of the new release needed before a stage is judged. */
        @WithName("min-vm-hours")
        @WithDefault("1000")
        double minVmHours();

        /** Default time a stage lasts at least. */
        @WithName("min-stage-duration")
        @WithDefault("PT1H")
        Duration minStageDuration();

        /** Default null hypothesis of the rate test: a rate ratio up to this is no regression. */
        @WithName("min-rate-ratio")
        @WithDefault("1.5")
        double minRateRatio();

        /** Default significance of the rate test. */
        @WithDefault("0.01")
        double significance();

        /** How long an UPDATE or ROLL_BACK command of a rollout stays valid. */
        @WithName("command-ttl")
        @WithDefault("P7D")
        Duration commandTtl();
    }
}
