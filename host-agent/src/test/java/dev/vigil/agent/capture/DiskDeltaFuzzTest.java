package dev.vigil.agent.capture;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.vigil.agent.FuzzFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A disk delta as it arrives from a host, possibly damaged or hostile, rebuilt against its master: whatever the
 * bytes, reading the header and rebuilding either succeed or fail with an {@link IOException} naming what is wrong;
 * never another exception, a hang, a heap the JVM cannot hold, or work beyond the master's size and the bytes the delta
 * carries. The seed is a delta of the master below.
 */
class DiskDeltaFuzzTest {

    /** 64 KiB of a repeating pattern; the seed's header names its SHA-256. */
    static byte[] master() {
        byte[] master = new byte[64 << 10];
        for (int i = 0; i < master.length; i++) {
            master[i] = (byte) (i * 31 + 7);
        }
        return master;
    }

    @FuzzTest
    void rebuildsOrRefusesWithAReason(byte[] delta) throws IOException {
        Path dir = Files.createTempDirectory(FuzzFiles.scratch(), "vigil-delta-fuzz-");
        try {
            Path file = dir.resolve("delta");
            Files.write(file, delta);
            Path master = dir.resolve("master.raw");
            Files.write(master, master());
            Path out = Files.createDirectory(dir.resolve("out"));
            try {
                DiskDelta.header(file);
            } catch (IOException expected) {
                // A typed refusal.
            }
            try {
                Map<String, Path> rebuilt = DiskDelta.rebuild(file, Map.of("vda", master), out);
                for (Path disk : rebuilt.values()) {
                    if (Files.size(disk) > (1L << 30)) {
                        throw new AssertionError("rebuilt " + Files.size(disk) + " bytes");
                    }
                }
            } catch (IOException expected) {
                // A typed refusal.
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
