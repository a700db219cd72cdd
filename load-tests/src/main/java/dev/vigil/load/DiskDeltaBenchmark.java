package dev.vigil.load;

import dev.vigil.agent.capture.DiskDelta;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * What a crashed disk costs to send: Vigil's delta against the master versus the bytes that really changed, the
 * qcow2 overlay as it sits on disk, and the whole image, with the time each takes. A master image of the given size
 * (random data with holes, as an installed OS is) gets a qcow2 overlay, and QEMU's own qemu-io writes a beta's
 * traffic into it: scattered 4 KiB writes, sequential runs, rewrites of the master's own content (no change), and
 * zeroed ranges. "Changed" is counted from the result, 4 KiB block by block against the master.
 *
 * <p>Usage: {@code load-tests/run DiskDeltaBenchmark [master MiB (1024)] [scattered writes (4000)] [runs of 1 MiB
 * (64)]}
 */
public final class DiskDeltaBenchmark {

    private static final int MIB = 1 << 20;
    private static final int BLOCK = 4096;

    public static void main(String[] args) throws Exception {
        int masterMiB = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        int scattered = args.length > 1 ? Integer.parseInt(args[1]) : 4000;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 64;
        Path dir = Files.createTempDirectory("vigil-delta-bench-");
        try {
            run(dir, masterMiB, scattered, runs);
        } finally {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void run(Path dir, int masterMiB, int scattered, int runs) throws Exception {
        Random random = new Random(2026);
        Path master = dir.resolve("master.raw");
        long size = (long) masterMiB * MIB;
        // 70% of 1 MiB extents hold data, the rest are holes.
        byte[] chunk = new byte[MIB];
        try (OutputStream out = Files.newOutputStream(master)) {
            for (int i = 0; i < masterMiB; i++) {
                if (random.nextInt(10) < 7) {
                    random.nextBytes(chunk);
                } else {
                    Arrays.fill(chunk, (byte) 0);
                }
                out.write(chunk);
            }
        }
        Path overlay = dir.resolve("overlay.qcow2");
        exec("qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", master.toString(), overlay.toString());

        List<String> commands = new ArrayList<>();
        long written = 0;
        for (int i = 0; i < scattered; i++) {
            long block = random.nextLong(size / BLOCK);
            commands.add(
                    "write -P 0x" + Integer.toHexString(1 + random.nextInt(255)) + " " + block * BLOCK + " " + BLOCK);
            written += BLOCK;
        }
        for (int i = 0; i < runs; i++) {
            long at = random.nextLong(size / MIB - 1) * MIB + random.nextInt(256) * BLOCK;
            commands.add("write -P 0x" + Integer.toHexString(1 + random.nextInt(255)) + " " + at + " " + MIB);
            written += MIB;
        }
        for (int i = 0; i < 200; i++) {
            // The guest rewrites a block with what the master already holds there (a no-op for the content).
            long block = random.nextLong(size / BLOCK);
            byte[] same = new byte[BLOCK];
            try (var f = new java.io.RandomAccessFile(master.toFile(), "r")) {
                f.seek(block * BLOCK);
                f.readFully(same);
            }
            if (allSame(same)) {
                commands.add("write -P 0x" + Integer.toHexString(same[0] & 0xff) + " " + block * BLOCK + " " + BLOCK);
                written += BLOCK;
            }
        }
        for (int i = 0; i < 16; i++) {
            long at = random.nextLong(size / MIB - 1) * MIB;
            commands.add("write -z " + at + " " + 256 * 1024);
            written += 256 * 1024;
        }
        for (int from = 0; from < commands.size(); from += 500) {
            List<String> argv = new ArrayList<>(List.of("qemu-io", "-f", "qcow2"));
            for (String c : commands.subList(from, Math.min(commands.size(), from + 500))) {
                argv.add("-c");
                argv.add(c);
            }
            argv.add(overlay.toString());
            exec(argv.toArray(String[]::new));
        }

        // Ground truth: the crashed disk as QEMU reads it, against the master, 4 KiB at a time.
        Path flat = dir.resolve("crashed.raw");
        long convertStart = System.nanoTime();
        exec("qemu-img", "convert", "-O", "raw", overlay.toString(), flat.toString());
        long convertMillis = (System.nanoTime() - convertStart) / 1_000_000;
        long changed = changedBytes(master, flat);

        Path delta = dir.resolve("disk.delta");
        long start = System.nanoTime();
        DiskDelta.Stats stats = DiskDelta.write(List.of(new DiskDelta.Disk("vda", overlay)), delta, Long.MAX_VALUE);
        long deltaMillis = (System.nanoTime() - start) / 1_000_000;

        long rebuildStart = System.nanoTime();
        Path rebuilt = DiskDelta.rebuild(delta, Map.of("vda", master), Files.createDirectories(dir.resolve("rebuilt")))
                .get("vda");
        long rebuildMillis = (System.nanoTime() - rebuildStart) / 1_000_000;
        boolean exact = Files.mismatch(rebuilt, flat) == -1;

        long overlayBytes = Files.size(overlay);
        System.out.printf("master %d MiB; guest wrote %,d bytes in %d writes%n", masterMiB, written, commands.size());
        System.out.printf("changed (4 KiB blocks differing from the master): %,d bytes%n", changed);
        System.out.printf(
                "Vigil delta: %,d bytes = %.3fx changed, %.4f of the image; made in %,d ms (reads the master once)%n",
                stats.blobBytes(),
                stats.blobBytes() / (double) changed,
                stats.blobBytes() / (double) size,
                deltaMillis);
        System.out.printf(
                "qcow2 overlay file: %,d bytes = %.3fx changed (clusters allocated above the master: %,d bytes)%n",
                overlayBytes, overlayBytes / (double) changed, stats.allocatedAboveMaster());
        System.out.printf(
                "whole image: %,d bytes = %.1fx changed; qemu-img convert to raw took %,d ms (same run)%n",
                size, size / (double) changed, convertMillis);
        System.out.printf("rebuild from master + delta: %,d ms, bit-exact: %s%n", rebuildMillis, exact);
        if (!exact || stats.changedBytes() != changed) {
            throw new IllegalStateException("the delta does not describe the crashed disk");
        }
    }

    private static boolean allSame(byte[] bytes) {
        for (byte b : bytes) {
            if (b != bytes[0]) {
                return false;
            }
        }
        return true;
    }

    private static long changedBytes(Path a, Path b) throws IOException {
        long changed = 0;
        byte[] x = new byte[MIB];
        byte[] y = new byte[MIB];
        try (var in1 = Files.newInputStream(a);
                var in2 = Files.newInputStream(b)) {
            while (true) {
                int n = in1.readNBytes(x, 0, MIB);
                int m = in2.readNBytes(y, 0, MIB);
                if (n == 0 && m == 0) {
                    return changed;
                }
                for (int i = 0; i < Math.max(n, m); i += BLOCK) {
                    if (!Arrays.equals(x, i, Math.min(i + BLOCK, n), y, i, Math.min(i + BLOCK, m))) {
                        changed += BLOCK;
                    }
                }
            }
        }
    }

    private static void exec(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IOException(command[0] + " failed: " + output);
        }
    }
}
