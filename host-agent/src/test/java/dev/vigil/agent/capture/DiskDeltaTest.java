package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rebuilding a crashed disk from its master and a delta, and refusing deltas that would make it do more. */
class DiskDeltaTest {

    @TempDir
    Path dir;

    @Test
    void theFuzzSeedRebuildsTheDiskItDescribes() throws Exception {
        Path delta = Path.of(
                "src/test/resources/dev/vigil/agent/capture/DiskDeltaFuzzTestInputs/rebuildsOrRefusesWithAReason/two-runs");
        Path rebuilt = DiskDelta.rebuild(delta, Map.of("vda", master()), out()).get("vda");
        byte[] disk = Files.readAllBytes(rebuilt);
        assertThat(disk).hasSize(64 << 10);
        assertThat(disk[0]).isEqualTo((byte) 0xAB);
        assertThat(disk[4095]).isEqualTo((byte) 0xAB);
        assertThat(disk[4096]).isEqualTo(DiskDeltaFuzzTest.master()[4096]);
        assertThat(disk[8192]).isZero();
        assertThat(disk[12288]).isEqualTo(DiskDeltaFuzzTest.master()[12288]);
    }

    @Test
    void aDeltaClaimingAnotherSizeThanItsMasterIsRefusedBeforeAnythingIsWritten() throws Exception {
        // Before, a zero run over a claimed terabyte was written out byte by byte and then hashed.
        Path delta = delta(1L << 40, "[{\"offset\":0,\"length\":1099511627776,\"zero\":true}]");
        assertThatThrownBy(() -> DiskDelta.rebuild(delta, Map.of("vda", master()), out()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("has 1099511627776 bytes; its master has 65536");
    }

    @Test
    void overlappingRunsAreRefused() throws Exception {
        // Before, a header of many runs over the same range rewrote the whole disk once per run.
        Path delta = delta(
                64 << 10,
                "[{\"offset\":0,\"length\":65536,\"zero\":true},{\"offset\":0,\"length\":65536,\"zero\":true}]");
        assertThatThrownBy(() -> DiskDelta.rebuild(delta, Map.of("vda", master()), out()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("overlaps or precedes");
    }

    private Path master() throws IOException {
        return Files.write(dir.resolve("master.raw"), DiskDeltaFuzzTest.master());
    }

    private Path out() throws IOException {
        return Files.createDirectories(dir.resolve("out"));
    }

    private Path delta(long virtualSize, String runs) throws Exception {
        String sha =
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(DiskDeltaFuzzTest.master()));
        byte[] header = ("{\"format\":\"" + DiskDelta.FORMAT + "\",\"disks\":[{\"target\":\"vda\",\"virtualSize\":"
                        + virtualSize + ",\"master\":{\"sha256\":\"" + sha + "\"},\"sha256\":\"00\",\"runs\":" + runs
                        + "}]}")
                .getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.write(DiskDelta.MAGIC);
            out.writeInt(header.length);
            out.write(header);
        }
        return Files.write(dir.resolve("delta"), bytes.toByteArray());
    }
}
