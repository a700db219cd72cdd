package dev.vigil.agent.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KdumpFlattenedTest {

    @TempDir
    Path dir;

    @Test
    void recordsInAnyOrderRebuildTheFileTheyDescribe() throws IOException {
        Random random = new Random(7);
        for (int round = 0; round < 200; round++) {
            byte[] expected = new byte[1 + random.nextInt(200_000)];
            random.nextBytes(expected);
            // Cut the file into pieces, shuffle them, and flatten.
            int pieces = 1 + random.nextInt(20);
            int[] cuts = random.ints(pieces - 1, 0, expected.length).sorted().toArray();
            int[][] ranges = new int[pieces][];
            int start = 0;
            for (int i = 0; i < pieces; i++) {
                int end = i < cuts.length ? cuts[i] : expected.length;
                ranges[i] = new int[] {start, end};
                start = end;
            }
            java.util.Collections.shuffle(Arrays.asList(ranges), random);
            ByteArrayOutputStream stream = header();
            DataOutputStream out = new DataOutputStream(stream);
            for (int[] r : ranges) {
                out.writeLong(r[0]);
                out.writeLong(r[1] - r[0]);
                out.write(expected, r[0], r[1] - r[0]);
            }
            out.writeLong(-1);
            out.writeLong(-1);
            Path flat = Files.write(dir.resolve("flat"), stream.toByteArray());

            assertThat(KdumpFlattened.isFlattened(flat)).isTrue();
            KdumpFlattened.unflatten(flat, dir.resolve("out"), 1 << 20);
            assertThat(Files.readAllBytes(dir.resolve("out"))).isEqualTo(expected);
        }
    }

    @Test
    void aStreamWithoutItsEndMarkerOrOutOfBoundsFailsCleanly() throws IOException {
        ByteArrayOutputStream truncated = header();
        DataOutputStream out = new DataOutputStream(truncated);
        out.writeLong(0);
        out.writeLong(4);
        out.write(new byte[] {1, 2, 3, 4});
        Path noEnd = Files.write(dir.resolve("no-end"), truncated.toByteArray());
        assertThatThrownBy(() -> KdumpFlattened.unflatten(noEnd, dir.resolve("o1"), 1 << 20))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("end marker");

        ByteArrayOutputStream far = header();
        out = new DataOutputStream(far);
        out.writeLong(Long.MAX_VALUE - 2);
        out.writeLong(4);
        Path beyond = Files.write(dir.resolve("beyond"), far.toByteArray());
        assertThatThrownBy(() -> KdumpFlattened.unflatten(beyond, dir.resolve("o2"), 1 << 20))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("out of bounds");

        Path notFlat = Files.write(dir.resolve("elf"), new byte[] {0x7f, 'E', 'L', 'F'});
        assertThat(KdumpFlattened.isFlattened(notFlat)).isFalse();
        assertThatThrownBy(() -> KdumpFlattened.unflatten(notFlat, dir.resolve("o3"), 1 << 20))
                .isInstanceOf(IOException.class);
    }

    @Test
    void randomlyDamagedStreamsNeverEscapeAsAnythingButIoException() throws IOException {
        Random random = new Random(11);
        ByteArrayOutputStream good = header();
        DataOutputStream out = new DataOutputStream(good);
        for (int i = 0; i < 8; i++) {
            out.writeLong(i * 1000L);
            out.writeLong(1000);
            out.write(new byte[1000]);
        }
        out.writeLong(-1);
        out.writeLong(-1);
        byte[] base = good.toByteArray();
        for (int round = 0; round < 2_000; round++) {
            byte[] damaged = base.clone();
            for (int flips = 1 + random.nextInt(8); flips > 0; flips--) {
                // Damage the record headers and data, past the signature most of the time.
                int at = random.nextInt(10) == 0 ? random.nextInt(64) : 4096 + random.nextInt(base.length - 4096);
                damaged[at] = (byte) random.nextInt(256);
            }
            if (random.nextBoolean()) {
                damaged = Arrays.copyOf(damaged, random.nextInt(damaged.length));
            }
            Path file = Files.write(dir.resolve("damaged"), damaged);
            try {
                KdumpFlattened.unflatten(file, dir.resolve("out"), 1 << 20);
                assertThat(Files.size(dir.resolve("out"))).isLessThanOrEqualTo(1 << 20);
            } catch (IOException expected) {
                // the only acceptable failure
            }
        }
    }

    private static ByteArrayOutputStream header() throws IOException {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(stream);
        byte[] signature = Arrays.copyOf(KdumpFlattened.SIGNATURE, 16);
        out.write(signature);
        out.writeLong(1);
        out.writeLong(1);
        out.write(new byte[KdumpFlattened.HEADER_BYTES - 32]);
        return stream;
    }
}
