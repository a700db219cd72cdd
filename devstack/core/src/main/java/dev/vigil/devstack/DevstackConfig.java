package dev.vigil.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Where the embedded stack keeps its data and which loopback ports it binds.
 *
 * @param workDir all data: Kafka logs, PostgreSQL cluster, object store files
 * @param keepData whether data survives a stop (the local run) or is wiped (tests)
 * @param durable whether PostgreSQL flushes every commit to disk before it acknowledges it ({@code fsync} and
 *     {@code synchronous_commit} on), as a production database does; a kept stack always is, a throw-away one only
 *     when a test asks (fault tests: a crash must not take acknowledged commits with it)
 */
public record DevstackConfig(
        Path workDir,
        int kafkaPort,
        int controllerPort,
        int postgresPort,
        int s3Port,
        boolean keepData,
        boolean durable,
        List<String> buckets) {

    /** Bucket for blobs uploaded by agents (enterprise side). */
    public static final String ARTIFACTS_BUCKET = "vigil-artifacts";
    /** Bucket for the policy-filtered copy the vendor sees. */
    public static final String VENDOR_BUCKET = "vigil-vendor-artifacts";

    static final int DEFAULT_KAFKA_PORT = 19092;
    static final int DEFAULT_CONTROLLER_PORT = 19093;
    static final int DEFAULT_POSTGRES_PORT = 15432;
    static final int DEFAULT_S3_PORT = 19000;

    public DevstackConfig {
        buckets = List.copyOf(buckets);
    }

    /** A throw-away stack on free ports in a fresh temporary directory. */
    public static DevstackConfig forTests() {
        try {
            int[] ports = Ports.free(4);
            return new DevstackConfig(
                    Files.createTempDirectory("vigil-devstack-"),
                    ports[0],
                    ports[1],
                    ports[2],
                    ports[3],
                    false,
                    false,
                    List.of(ARTIFACTS_BUCKET, VENDOR_BUCKET));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for the devstack", e);
        }
    }

    /** The same stack, but its data survives {@link Devstack#close()} (for restart tests). */
    public DevstackConfig keepingData() {
        return new DevstackConfig(workDir, kafkaPort, controllerPort, postgresPort, s3Port, true, true, buckets);
    }

    /**
     * The same stack with a durable PostgreSQL ({@code fsync} and {@code synchronous_commit} on), for tests that kill
     * it: a throw-away stack otherwise runs with both off, and a crash may lose or corrupt what it acknowledged.
     */
    public DevstackConfig durablePostgres() {
        return new DevstackConfig(workDir, kafkaPort, controllerPort, postgresPort, s3Port, keepData, true, buckets);
    }

    /**
     * The local run's stack: data kept under {@code workDir}, fixed ports unless overridden by
     * {@code VIGIL_DEVSTACK_KAFKA_PORT}, {@code _CONTROLLER_PORT}, {@code _POSTGRES_PORT}, {@code _S3_PORT}.
     */
    public static DevstackConfig local(Path workDir, Map<String, String> env) {
        return new DevstackConfig(
                workDir,
                port(env, "VIGIL_DEVSTACK_KAFKA_PORT", DEFAULT_KAFKA_PORT),
                port(env, "VIGIL_DEVSTACK_CONTROLLER_PORT", DEFAULT_CONTROLLER_PORT),
                port(env, "VIGIL_DEVSTACK_POSTGRES_PORT", DEFAULT_POSTGRES_PORT),
                port(env, "VIGIL_DEVSTACK_S3_PORT", DEFAULT_S3_PORT),
                true,
                true,
                List.of(ARTIFACTS_BUCKET, VENDOR_BUCKET));
    }

    private static int port(Map<String, String> env, String key, int fallback) {
        String value = env.get(key);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int port = Integer.parseInt(value.trim());
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new DevstackException(key + "=" + value + " is not a TCP port: set it to a number from 1 to 65535");
        }
    }
}
