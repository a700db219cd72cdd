package dev.vigil.dispatch;

import dev.vigil.devstack.Devstack;
import dev.vigil.devstack.Endpoints;
import dev.vigil.schemas.delivery.ImageChunker;
import dev.vigil.schemas.delivery.ImageManifests;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Master images for tests: raw disks of random sectors, and real qcow2 (version 3) files written from scratch. */
public final class Images {

    public static final int CLUSTER = 65_536;

    private Images() {}

    /** A raw disk of {@code bytes} random bytes from {@code seed}. */
    public static Path raw(Path dir, String name, long seed, int bytes) throws IOException {
        byte[] data = new byte[bytes];
        new Random(seed).nextBytes(data);
        Path file = dir.resolve(name);
        Files.write(file, data);
        return file;
    }

    /**
     * A qcow2 v3 image of {@code virtualSize} bytes whose guest clusters at the given offsets hold random data: header,
     * refcount table and block, L1 table, then one L2 table per 512 MiB touched, then data clusters. {@code qemu-img
     * check} finds no error in it.
     */
    public static Path qcow2(Path dir, String name, long virtualSize, long seed, long... guestOffsets)
            throws IOException {
        long l2Span = (long) CLUSTER / 8 * CLUSTER;
        int l1Entries = (int) ((virtualSize + l2Span - 1) / l2Span);
        long refcountTable = CLUSTER;
        long refcountBlock = 2L * CLUSTER;
        long l1Table = 3L * CLUSTER;
        long next = 4L * CLUSTER;
        Map<Integer, Long> l2Tables = new LinkedHashMap<>();
        Map<Long, Long> data = new LinkedHashMap<>();
        for (long offset : guestOffsets) {
            long guestCluster = offset / CLUSTER * CLUSTER;
            int l1Index = (int) (guestCluster / l2Span);
            if (!l2Tables.containsKey(l1Index)) {
                l2Tables.put(l1Index, next);
                next += CLUSTER;
            }
            if (!data.containsKey(guestCluster)) {
                data.put(guestCluster, next);
                next += CLUSTER;
            }
        }
        long clusters = next / CLUSTER;
        Path file = dir.resolve(name);
        Random random = new Random(seed);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(next);
            ByteBuffer header = ByteBuffer.allocate(112);
            header.putInt(0x514649fb)
                    .putInt(3)
                    .putLong(0)
                    .putInt(0)
                    .putInt(16)
                    .putLong(virtualSize)
                    .putInt(0);
            header.putInt(l1Entries)
                    .putLong(l1Table)
                    .putLong(refcountTable)
                    .putInt(1)
                    .putInt(0)
                    .putLong(0);
            header.putLong(0).putLong(0).putLong(0).putInt(4).putInt(104);
            // The header extensions end here (type 0, length 0).
            header.putInt(0).putInt(0);
            write(out, 0, header.array());
            write(
                    out,
                    refcountTable,
                    ByteBuffer.allocate(8).putLong(refcountBlock).array());
            ByteBuffer refcounts = ByteBuffer.allocate((int) clusters * 2);
            for (int i = 0; i < clusters; i++) {
                refcounts.putShort((short) 1);
            }
            write(out, refcountBlock, refcounts.array());
            ByteBuffer l1 = ByteBuffer.allocate(l1Entries * 8);
            l2Tables.forEach((index, at) -> l1.putLong(index * 8, at | 1L << 63));
            write(out, l1Table, l1.array());
            for (Map.Entry<Long, Long> cluster : data.entrySet()) {
                long guest = cluster.getKey();
                long l2 = l2Tables.get((int) (guest / l2Span));
                int l2Index = (int) (guest % l2Span / CLUSTER);
                write(
                        out,
                        l2 + l2Index * 8L,
                        ByteBuffer.allocate(8)
                                .putLong(cluster.getValue() | 1L << 63)
                                .array());
                byte[] bytes = new byte[CLUSTER];
                random.nextBytes(bytes);
                write(out, cluster.getValue(), bytes);
            }
        }
        return file;
    }

    /** The file cut to {@code length} bytes, as an interrupted copy leaves it. */
    public static Path truncated(Path image, Path dir, String name, long length) throws IOException {
        Path file = dir.resolve(name);
        Files.copy(image, file);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(length);
        }
        return file;
    }

    private static void write(RandomAccessFile out, long at, byte[] bytes) throws IOException {
        out.seek(at);
        out.write(bytes);
    }

    /** The bytes of {@code chunk} in {@code image}. */
    public static byte[] chunk(Path image, ImageChunker.Chunk chunk) throws IOException {
        byte[] bytes = new byte[chunk.length()];
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "r")) {
            file.seek(chunk.offset());
            file.readFully(bytes);
        }
        return bytes;
    }

    /** Puts {@code bytes} in the vendor's object store where {@code chunk} lives (to tamper with it, or repair it). */
    public static void storeChunk(ImageChunker.Chunk chunk, byte[] bytes) throws Exception {
        Endpoints endpoints = Devstack.shared().endpoints();
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        s3.putObject(PutObjectArgs.builder()
                .bucket("vigil-vendor-artifacts")
                .object(ImageManifests.objectKey(HexFormat.of().formatHex(chunk.sha256())))
                .stream(new ByteArrayInputStream(bytes), (long) bytes.length, null)
                .build());
    }

    /** An object's bytes in the devstack's object store. */
    public static byte[] object(String bucket, String key) throws Exception {
        Endpoints endpoints = Devstack.shared().endpoints();
        MinioClient s3 = MinioClient.builder()
                .endpoint(endpoints.s3Endpoint())
                .credentials(endpoints.s3AccessKey(), endpoints.s3SecretKey())
                .build();
        try (InputStream in = s3.getObject(
                io.minio.GetObjectArgs.builder().bucket(bucket).object(key).build())) {
            return in.readAllBytes();
        }
    }

    /** The chunk of {@code image} that holds byte {@code offset}. */
    public static ImageChunker.Chunk chunkHolding(Path image, long offset) throws Exception {
        try (InputStream in = Files.newInputStream(image)) {
            for (ImageChunker.Chunk chunk : ImageChunker.chunks(in)) {
                if (chunk.offset() <= offset && offset < chunk.offset() + chunk.length()) {
                    return chunk;
                }
            }
        }
        throw new AssertionError("no chunk holds offset " + offset);
    }
}
