package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Disk deltas against real qcow2 chains written by QEMU's own tools (qemu-img, qemu-io). */
class DiskDeltaIT {

    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void qemuTools() {
        boolean present =
                Files.isExecutable(Path.of("/usr/bin/qemu-img")) && Files.isExecutable(Path.of("/usr/bin/qemu-io"));
        if ("1".equals(System.getenv("VIGIL_REQUIRE_HYPERVISOR"))) {
            assertThat(present)
                    .as("qemu-img and qemu-io (devstack/hypervisor/setup installs them)")
                    .isTrue();
        }
        assumeTrue(present, "qemu-img and qemu-io are missing: run devstack/hypervisor/setup");
    }

    @Test
    void randomWritesThroughAChainOfOverlaysRebuildBitForBit() throws Exception {
        Random random = new Random(42);
        for (int round = 0; round < 6; round++) {
            Path master = dir.resolve("master-" + round + ".raw");
            byte[] content = new byte[16 * MIB];
            // A master with data in some places and holes in others.
            for (int i = 0; i < 40; i++) {
                int at = random.nextInt(content.length - 65536);
                byte[] chunk = new byte[1 + random.nextInt(65536)];
                random.nextBytes(chunk);
                System.arraycopy(chunk, 0, content, at, chunk.length);
            }
            Files.write(master, content);
            // Two overlays, as rolling snapshots leave them: master <- first <- top.
            Path first = dir.resolve("first-" + round + ".qcow2");
            Path top = dir.resolve("top-" + round + ".qcow2");
            TestGuest.run(
                    "qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", master.toString(), first.toString());
            qemuIo(first, writes(random, content));
            TestGuest.run(
                    "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", first.toString(), top.toString());
            qemuIo(top, writes(random, content));

            Path delta = dir.resolve("delta-" + round);
            DiskDelta.Stats stats = DiskDelta.write(List.of(new DiskDelta.Disk("vda", top)), delta, Long.MAX_VALUE);
            Path expected = dir.resolve("expected-" + round + ".raw");
            TestGuest.run("qemu-img", "convert", "-O", "raw", top.toString(), expected.toString());
            Path out = Files.createDirectories(dir.resolve("out-" + round));
            Path rebuilt = DiskDelta.rebuild(delta, Map.of("vda", master), out).get("vda");

            assertThat(Files.mismatch(rebuilt, expected)).isEqualTo(-1L);
            assertThat(stats.changedBytes()).isEqualTo(changedBlocks(master, expected) * 4096L);
            assertThat(stats.blobBytes()).isLessThanOrEqualTo(stats.changedBytes() + 64 * 1024);
            assertThat(stats.changedBytes()).isLessThanOrEqualTo(stats.allocatedAboveMaster());
        }
    }

    @Test
    void aWrongMasterOrADamagedDeltaIsRefusedWithTheReason() throws Exception {
        Path master = dir.resolve("master.raw");
        try (RandomAccessFile f = new RandomAccessFile(master.toFile(), "rw")) {
            f.setLength(4 * MIB);
        }
        Path top = dir.resolve("top.qcow2");
        TestGuest.run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", master.toString(), top.toString());
        qemuIo(top, List.of("write -P 0x5a 8192 4096"));
        Path delta = dir.resolve("delta");
        DiskDelta.write(List.of(new DiskDelta.Disk("vda", top)), delta, Long.MAX_VALUE);

        Path otherMaster = dir.resolve("other.raw");
        Files.write(otherMaster, new byte[4 * MIB - 1]);
        assertThatThrownBy(() -> DiskDelta.rebuild(delta, Map.of("vda", otherMaster), dir))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("not the one the delta was made against");

        byte[] bytes = Files.readAllBytes(delta);
        Path damaged = dir.resolve("damaged");
        bytes[bytes.length - 1] ^= 1;
        Files.write(damaged, bytes);
        assertThatThrownBy(() -> DiskDelta.rebuild(damaged, Map.of("vda", master), dir))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("does not match the crashed disk");

        Files.write(damaged, "VGDD1\n\u007f\u00ff\u00ff\u00ff".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> DiskDelta.header(damaged))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("out of bounds");
        assertThatThrownBy(() -> DiskDelta.write(List.of(new DiskDelta.Disk("vda", top)), dir.resolve("small"), 1024))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("exceeds 1024 bytes");
    }

    /** Writes of every sort: new data, data equal to the master, zeroes, unaligned, and cluster-sized runs. */
    private static List<String> writes(Random random, byte[] master) {
        List<String> commands = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            long offset = random.nextInt(master.length / 512 - 256) * 512L;
            int length = 512 * (1 + random.nextInt(random.nextBoolean() ? 8 : 256));
            switch (random.nextInt(4)) {
                case 0 -> commands.add("write -z " + offset + " " + length);
                case 1 ->
                    commands.add(
                            "write -P 0x" + Integer.toHexString(master[(int) offset] & 0xff) + " " + offset + " 512");
                default ->
                    commands.add(
                            "write -P 0x" + Integer.toHexString(1 + random.nextInt(255)) + " " + offset + " " + length);
            }
        }
        return commands;
    }

    private static void qemuIo(Path image, List<String> commands) throws Exception {
        List<String> argv = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
        for (String c : commands) {
            argv.add("-c");
            argv.add(c);
        }
        argv.add(image.toString());
        TestGuest.run(argv.toArray(String[]::new));
    }

    private static long changedBlocks(Path a, Path b) throws IOException {
        byte[] x = Files.readAllBytes(a);
        byte[] y = Files.readAllBytes(b);
        long blocks = 0;
        for (int i = 0; i < y.length; i += 4096) {
            if (!java.util.Arrays.equals(x, i, Math.min(i + 4096, x.length), y, i, Math.min(i + 4096, y.length))) {
                blocks++;
            }
        }
        return blocks;
    }
}
