package dev.vigil.devstack;

import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/** A real S3-compatible store (S3Proxy, filesystem backend) on loopback, with Vigil's buckets created. */
final class ObjectStore implements AutoCloseable {

    private final S3Proxy proxy;
    private final String endpoint;
    private final String accessKey;
    private final String secretKey;

    private ObjectStore(S3Proxy proxy, String endpoint, String accessKey, String secretKey) {
        this.proxy = proxy;
        this.endpoint = endpoint;
        this.accessKey = accessKey;
        this.secretKey = secretKey;
    }

    static ObjectStore start(DevstackConfig config) {
        Ports.requireFree(config.s3Port(), "the S3 store", "VIGIL_DEVSTACK_S3_PORT");
        String endpoint = "http://127.0.0.1:" + config.s3Port();
        try {
            Path baseDir = config.workDir().resolve("s3");
            Files.createDirectories(baseDir);
            Properties credentials = credentials(config.workDir().resolve("s3-credentials.properties"));
            String accessKey = credentials.getProperty("access-key");
            String secretKey = credentials.getProperty("secret-key");
            S3Proxy proxy = S3Proxy.builder()
                    .blobStore(new FilesystemNio2BlobStore(baseDir.toString()))
                    .endpoint(URI.create(endpoint))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey)
                    .build();
            proxy.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"STARTED".equals(proxy.getState())) {
                if (System.nanoTime() > deadline) {
                    throw new DevstackException("S3Proxy did not report STARTED within 30 s");
                }
                java.util.concurrent.locks.LockSupport.parkNanos(10_000_000L);
            }
            ObjectStore store = new ObjectStore(proxy, endpoint, accessKey, secretKey);
            store.createBuckets(config);
            return store;
        } catch (DevstackException e) {
            throw e;
        } catch (Exception e) {
            throw new DevstackException("S3 store failed to start on " + endpoint + ": " + e.getMessage(), e);
        }
    }

    String endpoint() {
        return endpoint;
    }

    String accessKey() {
        return accessKey;
    }

    String secretKey() {
        return secretKey;
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
    }

    private void createBuckets(DevstackConfig config) throws Exception {
        MinioClient client = MinioClient.builder()
                .endpoint(endpoint)
                .credentials(accessKey, secretKey)
                .build();
        for (String bucket : config.buckets()) {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            }
        }
    }

    /** Credentials generated once per work directory: nothing secret is committed or shared between stacks. */
    private static Properties credentials(Path file) throws IOException {
        Properties props = new Properties();
        if (Files.exists(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                props.load(in);
            }
            return props;
        }
        SecureRandom random = new SecureRandom();
        props.setProperty("access-key", "vigil-" + hex(random, 6));
        props.setProperty("secret-key", hex(random, 20));
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, "Local devstack S3 credentials, generated on first start");
        }
        return props;
    }

    private static String hex(SecureRandom random, int bytes) {
        byte[] value = new byte[bytes];
        random.nextBytes(value);
        return HexFormat.of().formatHex(value);
    }
}
