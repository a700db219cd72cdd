package dev.vigil.schemas.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageChunkerTest {

    @Test
    void chunksTileTheImageWithinTheirBoundsAndAreNamedByTheirHash() throws Exception {
        byte[] image = random(1, 21 * 1024 * 1024 + 123);

        List<ImageChunker.Chunk> chunks = ImageChunker.chunks(new ByteArrayInputStream(image));

        long next = 0;
        for (int i = 0; i < chunks.size(); i++) {
            ImageChunker.Chunk chunk = chunks.get(i);
            assertThat(chunk.offset()).isEqualTo(next);
            assertThat(chunk.length()).isLessThanOrEqualTo(ImageChunker.MAX_SIZE);
            if (i < chunks.size() - 1) {
                assertThat(chunk.length()).isGreaterThanOrEqualTo(ImageChunker.MIN_SIZE);
            }
            byte[] bytes =
                    java.util.Arrays.copyOfRange(image, (int) chunk.offset(), (int) chunk.offset() + chunk.length());
            assertThat(chunk.sha256())
                    .isEqualTo(MessageDigest.getInstance("SHA-256").digest(bytes));
            next += chunk.length();
        }
        assertThat(next).isEqualTo(image.length);
        // Random content cuts near the average: 21 MiB in roughly 15-30 chunks.
        assertThat(chunks).hasSizeBetween(12, 40);
    }

    @Test
    void anEditOrAnInsertionChangesOnlyTheChunksAroundIt() throws Exception {
        byte[] image = random(2, 24 * 1024 * 1024);
        Set<String> before = names(image);

        byte[] edited = image.clone();
        for (int i = 0; i < 4096; i++) {
            edited[10_000_000 + i] ^= 0x5a;
        }
        ByteArrayOutputStream inserted = new ByteArrayOutputStream();
        inserted.write(image, 0, 5_000_000);
        inserted.write(random(3, 70_000));
        inserted.write(image, 5_000_000, image.length - 5_000_000);

        assertThat(changed(before, names(edited))).isBetween(1, 2);
        assertThat(changed(before, names(inserted.toByteArray()))).isBetween(1, 3);
    }

    @Test
    void cutsTheSameBytesTheSameWayWhateverTheReadSizes() throws Exception {
        byte[] image = random(4, 9 * 1024 * 1024);
        List<ImageChunker.Chunk> whole = ImageChunker.chunks(new ByteArrayInputStream(image));
        // A stream that hands out at most 1,000 bytes per read.
        List<ImageChunker.Chunk> trickled = ImageChunker.chunks(new ByteArrayInputStream(image) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1000));
            }
        });

        assertThat(trickled).hasSameSizeAs(whole);
        for (int i = 0; i < whole.size(); i++) {
            assertThat(trickled.get(i).offset()).isEqualTo(whole.get(i).offset());
            assertThat(trickled.get(i).sha256()).isEqualTo(whole.get(i).sha256());
        }
    }

    @Test
    void smallAndEmptyImages() throws Exception {
        assertThat(ImageChunker.chunks(new ByteArrayInputStream(new byte[0]))).isEmpty();
        assertThat(ImageChunker.chunks(new ByteArrayInputStream(new byte[1000])))
                .singleElement()
                .satisfies(c -> assertThat(c.length()).isEqualTo(1000));
        // A run of zeros (an unallocated disk region) never matches the gear mask: it is cut at the maximum size.
        assertThat(ImageChunker.chunks(new ByteArrayInputStream(new byte[9 * 1024 * 1024])))
                .extracting(ImageChunker.Chunk::length)
                .containsExactly(ImageChunker.MAX_SIZE, ImageChunker.MAX_SIZE, 1024 * 1024);
    }

    private static int changed(Set<String> before, Set<String> after) {
        Set<String> fresh = new HashSet<>(after);
        fresh.removeAll(before);
        return fresh.size();
    }

    private static Set<String> names(byte[] image) throws Exception {
        Set<String> names = new HashSet<>();
        for (ImageChunker.Chunk chunk : ImageChunker.chunks(new ByteArrayInputStream(image))) {
            names.add(HexFormat.of().formatHex(chunk.sha256()));
        }
        return names;
    }

    private static byte[] random(long seed, int length) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }
}
