package dev.vigil.dispatch;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.Endpoints;
import io.minio.GetObjectArgs;
import io.minio.ListObjectsArgs;
import io.minio.MinioClient;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/** The devstack's evidence bucket as a test reads it, with the store's own credentials (which agents never hold). */
public final class ArtifactsBucket {

    private ArtifactsBucket() {}

    private static MinioClient store() {
        Endpoints endpoints = Devstack.shared().endpoints();
        return MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
    }

    public static byte[] stored(String key) throws Exception {
        try (var in = store().getObject(GetObjectArgs.builder()
                .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                .object(key)
                .build())) {
            return in.readAllBytes();
        }
    }

    public static List<String> keys(String prefix) throws Exception {
        List<String> keys = new ArrayList<>();
        for (var item : store().listObjects(ListObjectsArgs.builder()
                .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                .prefix(prefix)
                .recursive(true)
                .build())) {
            keys.add(item.get().objectName());
        }
        return keys;
    }

    public static boolean exists(String key) throws Exception {
        try {
            store().statObject(StatObjectArgs.builder()
                    .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                    .object(key)
                    .build());
            return true;
        } catch (ErrorResponseException e) {
            return false;
        }
    }

    public static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    public static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
