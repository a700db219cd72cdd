package dev.vigil.dispatch.domain;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.dispatch.Images;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageCheckTest {

    @TempDir
    Path dir;

    @Test
    void aWholeQcow2PassesWithItsVirtualSizeWhateverTheReadSizes() throws IOException {
        Path image = Images.qcow2(dir, "a.qcow2", 3L << 30, 1, 0, 600L << 20, 2L << 30);

        // Where QEMU's own tools are installed (the hypervisor setup), they agree the test image is sound.
        if (Files.isExecutable(Path.of("/usr/bin/qemu-img"))) {
            Process check = new ProcessBuilder("qemu-img", "check", image.toString())
                    .redirectErrorStream(true)
                    .start();
            String said = new String(check.getInputStream().readAllBytes());
            assertThat(waitFor(check)).as(said).isZero();
        }
        for (int step : new int[] {1 << 20, 4096, 7}) {
            ImageCheck.Outcome outcome = check(image, ImageCheck.ImageFormat.QCOW2, step);
            assertThat(outcome.problem()).isNull();
            assertThat(outcome.virtualSize()).isEqualTo(3L << 30);
        }
    }

    @Test
    void aQcow2MissingItsLastDataClusterIsTruncated() throws IOException {
        Path image = Images.qcow2(dir, "a.qcow2", 1L << 30, 2, 0, 300L << 20, 700L << 20);
        Path cut = Images.truncated(image, dir, "cut.qcow2", Files.size(image) - Images.CLUSTER);

        assertThat(check(cut, ImageCheck.ImageFormat.QCOW2, 1 << 20).problem())
                .startsWith("truncated or corrupt: the L2 table")
                .contains("points at byte");
    }

    @Test
    void refusesHeadersThatCannotMakeAMasterImage() throws IOException {
        Path image = Images.qcow2(dir, "a.qcow2", 1L << 30, 3, 0);
        assertThat(problemWith(image, 8, 512L)).contains("backing file");
        assertThat(problemWith(image, 72, 1L)).contains("dirty");
        assertThat(problemWith(image, 72, 2L)).contains("corrupt");
        assertThat(problemWith(image, 72, 1L << 40)).contains("incompatible");
        assertThat(problemWithInt(image, 32, 1)).contains("encrypted");
        assertThat(problemWithInt(image, 4, 4)).contains("version 4");
        assertThat(problemWithInt(image, 20, 30)).contains("cluster_bits");
        assertThat(problemWithInt(image, 0, 0x12345678)).contains("not a qcow2");
        assertThat(check(Images.truncated(image, dir, "head.qcow2", 50), ImageCheck.ImageFormat.QCOW2, 4096)
                        .problem())
                .contains("too short");
    }

    @Test
    void rawImagesAreWholeSectorsAndNotQcow2() throws IOException {
        Path raw = Images.raw(dir, "a.raw", 4, 1 << 20);
        assertThat(check(raw, ImageCheck.ImageFormat.RAW, 65536).virtualSize()).isEqualTo(1 << 20);
        assertThat(check(Images.truncated(raw, dir, "b.raw", (1 << 20) - 1), ImageCheck.ImageFormat.RAW, 65536)
                        .problem())
                .contains("512-byte sectors");
        Path qcow = Images.qcow2(dir, "c.qcow2", 1L << 30, 5, 0);
        assertThat(check(qcow, ImageCheck.ImageFormat.RAW, 65536).problem()).contains("is a qcow2 image");
    }

    @Test
    void randomBytesNeverPassAsQcow2AndNeverThrow() {
        Random random = new Random(6);
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = new byte[random.nextInt(1 << 16)];
            random.nextBytes(bytes);
            if (bytes.length >= 4) {
                ByteBuffer.wrap(bytes).putInt(0, ImageCheck.QCOW_MAGIC).putInt(4, 2 + random.nextInt(2));
            }
            ImageCheck check = new ImageCheck(ImageCheck.ImageFormat.QCOW2);
            check.accept(0, bytes, 0, bytes.length);
            for (long missed : check.missedTables()) {
                check.acceptTable(missed, new byte[check.tableBytes()]);
            }
            assertThat(check.finish(bytes.length).problem()).isNotNull();
        }
    }

    private static int waitFor(Process process) {
        try {
            return process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String problemWith(Path image, long at, long value) throws IOException {
        Path copy = Images.truncated(image, dir, "edit-" + at + "-" + value + ".qcow2", Files.size(image));
        try (RandomAccessFile file = new RandomAccessFile(copy.toFile(), "rw")) {
            file.seek(at);
            file.writeLong(value);
        }
        return check(copy, ImageCheck.ImageFormat.QCOW2, 1 << 20).problem();
    }

    private String problemWithInt(Path image, long at, int value) throws IOException {
        Path copy = Images.truncated(image, dir, "edit-" + at + "-" + value + ".qcow2", Files.size(image));
        try (RandomAccessFile file = new RandomAccessFile(copy.toFile(), "rw")) {
            file.seek(at);
            file.writeInt(value);
        }
        return check(copy, ImageCheck.ImageFormat.QCOW2, 1 << 20).problem();
    }

    private static ImageCheck.Outcome check(Path image, ImageCheck.ImageFormat format, int step) throws IOException {
        byte[] bytes = Files.readAllBytes(image);
        ImageCheck check = new ImageCheck(format);
        for (int at = 0; at < bytes.length; at += step) {
            check.accept(at, bytes, at, Math.min(step, bytes.length - at));
        }
        return check.finish(bytes.length);
    }
}
