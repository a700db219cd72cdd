package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vigil.agent.TcpForwarder;
import dev.vigil.devstack.DevstackConfig;
import dev.vigil.devstack.DevstackExtension;
import dev.vigil.devstack.Endpoints;
import io.minio.GetObjectArgs;
import io.minio.MinioClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A large blob's upload cut mid-transfer resumes from the parts the store already has. */
@ExtendWith(DevstackExtension.class)
class ResumableUploadIT {

    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void anUploadCutInItsSecondPartSendsOnlyTheRestWhenTriedAgain(Endpoints endpoints) throws Exception {
        byte[] content = new byte[(int) (40 * MIB)];
        new Random(5).nextBytes(content);
        Path blob = Files.write(dir.resolve("dump"), content);
        Path state = dir.resolve("dump.upload");
        String key = "test/resumable-" + UUID.randomUUID();
        try (TcpForwarder relay = new TcpForwarder(endpoints.s3Endpoint())) {
            relay.up();
            // The connection drops 20 MiB in: part 1 (16 MiB) is stored, part 2 is not.
            relay.cutAfter(20 * MIB);
            assertThatThrownBy(() ->
                            store(relay, endpoints).put(blob, key, sha256(content), "application/octet-stream", state))
                    .isInstanceOf(IOException.class);
            assertThat(state).exists();

            relay.up();
            long sent = store(relay, endpoints)
                    .put(blob, key, sha256(content), "application/octet-stream", state)
                    .sentBytes();

            assertThat(sent).isEqualTo(24 * MIB);
            assertThat(state).doesNotExist();
        }
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        try (InputStream in = s3.getObject(GetObjectArgs.builder()
                .bucket(DevstackConfig.ARTIFACTS_BUCKET)
                .object(key)
                .build())) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            assertThat(HexFormat.of().formatHex(sha.digest(in.readAllBytes())))
                    .isEqualTo(HexFormat.of().formatHex(sha.digest(content)));
        }
    }

    @Test
    void anUploadTheStoreNeverHadStartsOver(Endpoints endpoints) throws Exception {
        byte[] content = new byte[(int) (17 * MIB)];
        new Random(6).nextBytes(content);
        Path blob = Files.write(dir.resolve("dump2"), content);
        String key = "test/forgotten-" + UUID.randomUUID();
        Path state = Files.writeString(dir.resolve("dump2.upload"), key + "\n" + "forgotten-" + UUID.randomUUID());
        try (TcpForwarder relay = new TcpForwarder(endpoints.s3Endpoint())) {
            relay.up();
            long sent = store(relay, endpoints)
                    .put(blob, key, sha256(content), "application/octet-stream", state)
                    .sentBytes();
            assertThat(sent).isEqualTo(content.length);
        }
        assertThat(state).doesNotExist();
    }

    private static DirectStore store(TcpForwarder relay, Endpoints endpoints) {
        return new DirectStore(
                relay.url("http"), endpoints.s3AccessKey(), endpoints.s3SecretKey(), DevstackConfig.ARTIFACTS_BUCKET);
    }

    private static String sha256(byte[] content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }
}
