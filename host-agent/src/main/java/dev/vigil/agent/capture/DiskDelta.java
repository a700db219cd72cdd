package dev.vigil.agent.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a crashed VM's disk holds beyond the vendor's master image, so the vendor can rebuild that disk exactly
 * from the master they already have. A VM's disk is a qcow2 overlay chain whose bottom is the master; {@code qemu-img
 * map} says which guest ranges the overlays hold, and only the 4 KiB blocks there that differ from the master are
 * kept (a 64 KiB qcow2 cluster with one changed block costs 4 KiB, not 64).
 *
 * <p>The blob ({@code vigil-disk-delta/1}): {@code VGDD1\n}, a big-endian u32 header length, a JSON header, then the
 * data of every non-zero run in header order. Per disk the header gives the virtual size, the master's file name,
 * format and SHA-256 (of its guest-visible content), the runs ({@code offset}, {@code length}, {@code zero}), and the
 * SHA-256 of the crashed disk's guest-visible content, which {@link #rebuild} checks. Images are read while QEMU
 * has them open (shared, read-only): take a disk-only snapshot first so the overlay stops changing.
 */
public final class DiskDelta {

    public static final String FORMAT = "vigil-disk-delta/1";
    static final byte[] MAGIC = "VGDD1\n".getBytes(StandardCharsets.US_ASCII);
    static final int BLOCK = 4096;
    private static final int CHUNK = 1 << 20;
    private static final int MAX_HEADER_BYTES = 64 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();

    private DiskDelta() {}

    /** A disk to describe: its target name (vda) and the top image of its chain (frozen). */
    public record Disk(String target, Path top) {}

    /** What a delta holds, for reports and benchmarks. */
    public record Stats(long virtualBytes, long allocatedAboveMaster, long changedBytes, long blobBytes) {}

    /** One image of a chain and what {@code qemu-img map} says of the guest ranges it serves. */
    private record Extent(long start, long length, int depth, boolean zero, boolean data, long offset) {}

    /** Reads guest-visible content of an image chain from its files. */
    private static final class GuestView implements AutoCloseable {
        private final List<FileChannel> files = new ArrayList<>();
        private final List<Extent> extents;
        private final long virtualSize;
        private final JsonNode chain;

        GuestView(Path top) throws IOException {
            JsonNode info = QemuImg.json("info", "-U", "--backing-chain", "--output=json", top.toString());
            this.chain = info.isArray() ? info : JSON.createArrayNode().add(info);
            for (JsonNode image : chain) {
                files.add(FileChannel.open(Path.of(image.path("filename").asText()), StandardOpenOption.READ));
            }
            this.virtualSize = chain.get(0).path("virtual-size").asLong();
            this.extents = new ArrayList<>();
            for (JsonNode e : QemuImg.json("map", "-U", "--output=json", top.toString())) {
                boolean data = e.path("data").asBoolean();
                if (data && !e.has("offset")) {
                    throw new IOException(top.getFileName() + " has compressed or encrypted clusters at "
                            + e.path("start").asLong() + ": a delta needs plainly stored data");
                }
                extents.add(new Extent(
                        e.path("start").asLong(),
                        e.path("length").asLong(),
                        e.path("depth").asInt(),
                        e.path("zero").asBoolean(),
                        data,
                        e.path("offset").asLong(-1)));
            }
        }

        /** The image at the bottom of the chain: the master. */
        JsonNode master() {
            return chain.get(chain.size() - 1);
        }

        /** Fills {@code buffer} with guest bytes from {@code position}. */
        void read(long position, byte[] buffer, int length) throws IOException {
            Arrays.fill(buffer, 0, length, (byte) 0);
            int at = index(position);
            long end = position + length;
            for (int i = Math.max(at, 0); i < extents.size() && extents.get(i).start() < end; i++) {
                Extent e = extents.get(i);
                long from = Math.max(position, e.start());
                long to = Math.min(end, e.start() + e.length());
                if (to <= from || e.zero() || !e.data()) {
                    continue;
                }
                ByteBuffer target = ByteBuffer.wrap(buffer, (int) (from - position), (int) (to - from));
                long source = e.offset() + (from - e.start());
                FileChannel file = files.get(e.depth());
                while (target.hasRemaining()) {
                    if (file.read(target, source + target.position() - (from - position)) < 0) {
                        break;
                    }
                }
            }
        }

        private int index(long position) {
            int lo = 0;
            int hi = extents.size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                Extent e = extents.get(mid);
                if (e.start() + e.length() <= position) {
                    lo = mid + 1;
                } else if (e.start() > position) {
                    hi = mid - 1;
                } else {
                    return mid;
                }
            }
            return lo;
        }

        /** True when some image above the master serves part of [position, position + length). */
        boolean aboveMaster(long position, int length) {
            int master = files.size() - 1;
            long end = position + length;
            for (int i = Math.max(index(position), 0);
                    i < extents.size() && extents.get(i).start() < end;
                    i++) {
                if (extents.get(i).depth() < master) {
                    return true;
                }
            }
            return false;
        }

        long allocatedAboveMaster() {
            int master = files.size() - 1;
            return extents.stream()
                    .filter(e -> e.depth() < master)
                    .mapToLong(Extent::length)
                    .sum();
        }

        @Override
        public void close() throws IOException {
            for (FileChannel f : files) {
                f.close();
            }
        }
    }

    /**
     * Writes the delta of each disk against the master at the bottom of its chain.
     *
     * @param limitBytes the largest blob accepted; a bigger delta fails the step rather than fill the host
     */
    public static Stats write(List<Disk> disks, Path out, long limitBytes) throws IOException {
        ArrayNode described = JSON.createArrayNode();
        Path data = out.resolveSibling(out.getFileName() + ".data");
        long virtual = 0;
        long allocated = 0;
        long changed = 0;
        try (OutputStream dataOut = Files.newOutputStream(data)) {
            for (Disk disk : disks) {
                try (GuestView top = new GuestView(disk.top())) {
                    JsonNode masterInfo = top.master();
                    Path masterFile = Path.of(masterInfo.path("filename").asText());
                    ObjectNode d = described.addObject();
                    d.put("target", disk.target());
                    d.put("virtualSize", top.virtualSize);
                    ArrayNode runs = JSON.createArrayNode();
                    try (GuestView master = new GuestView(masterFile)) {
                        MessageDigest masterHash = sha256();
                        MessageDigest resultHash = sha256();
                        byte[] base = new byte[CHUNK];
                        byte[] mine = new byte[CHUNK];
                        long runStart = -1;
                        long runLength = 0;
                        boolean runZero = false;
                        for (long position = 0; position < top.virtualSize; position += CHUNK) {
                            int length = (int) Math.min(CHUNK, top.virtualSize - position);
                            master.read(position, base, length);
                            masterHash.update(base, 0, length);
                            if (!top.aboveMaster(position, length)) {
                                resultHash.update(base, 0, length);
                                continue;
                            }
                            top.read(position, mine, length);
                            resultHash.update(mine, 0, length);
                            for (int b = 0; b < length; b += BLOCK) {
                                int n = Math.min(BLOCK, length - b);
                                long at = position + b;
                                boolean differs = !Arrays.equals(mine, b, b + n, base, b, b + n);
                                boolean zero = differs && allZero(mine, b, n);
                                if (differs && runStart >= 0 && runStart + runLength == at && zero == runZero) {
                                    runLength += n;
                                } else {
                                    if (runStart >= 0) {
                                        addRun(runs, runStart, runLength, runZero);
                                        runStart = -1;
                                    }
                                    if (differs) {
                                        runStart = at;
                                        runLength = n;
                                        runZero = zero;
                                    }
                                }
                                if (differs) {
                                    changed += n;
                                    if (!zero) {
                                        dataOut.write(mine, b, n);
                                    }
                                    if (changed > limitBytes) {
                                        throw new IOException("the disk delta exceeds " + limitBytes + " bytes");
                                    }
                                }
                            }
                        }
                        if (runStart >= 0) {
                            addRun(runs, runStart, runLength, runZero);
                        }
                        ObjectNode m = d.putObject("master");
                        m.put("file", masterFile.getFileName().toString());
                        m.put("format", masterInfo.path("format").asText());
                        m.put("sha256", HexFormat.of().formatHex(masterHash.digest()));
                        d.put("sha256", HexFormat.of().formatHex(resultHash.digest()));
                    }
                    d.set("runs", runs);
                    virtual += top.virtualSize;
                    allocated += top.allocatedAboveMaster();
                }
            }
        }
        ObjectNode header = JSON.createObjectNode();
        header.put("format", FORMAT);
        header.put("blockSize", BLOCK);
        header.set("disks", described);
        byte[] headerBytes = JSON.writeValueAsBytes(header);
        try (DataOutputStream o = new DataOutputStream(Files.newOutputStream(out));
                InputStream in = Files.newInputStream(data)) {
            o.write(MAGIC);
            o.writeInt(headerBytes.length);
            o.write(headerBytes);
            in.transferTo(o);
        } finally {
            Files.deleteIfExists(data);
        }
        return new Stats(virtual, allocated, changed, Files.size(out));
    }

    private static void addRun(ArrayNode runs, long offset, long length, boolean zero) {
        ObjectNode run = runs.addObject();
        run.put("offset", offset);
        run.put("length", length);
        if (zero) {
            run.put("zero", true);
        }
    }

    /** The header of a delta blob. */
    public static JsonNode header(Path delta) throws IOException {
        try (DataInputStream in = new DataInputStream(Files.newInputStream(delta))) {
            return readHeader(in);
        }
    }

    private static JsonNode readHeader(DataInputStream in) throws IOException {
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException("not a Vigil disk delta (no VGDD1 header)");
        }
        int length = in.readInt();
        if (length <= 0 || length > MAX_HEADER_BYTES) {
            throw new IOException("disk delta header of " + length + " bytes is out of bounds");
        }
        byte[] header = new byte[length];
        in.readFully(header);
        JsonNode parsed = JSON.readTree(header);
        if (!FORMAT.equals(parsed.path("format").asText())) {
            throw new IOException("disk delta format " + parsed.path("format").asText() + " is not " + FORMAT);
        }
        return parsed;
    }

    /**
     * Rebuilds each crashed disk as a raw image from its master's guest-visible content (a raw file) and the delta,
     * and checks both SHA-256s the delta names.
     *
     * @param masters raw master content by disk target
     * @param outDir where {@code <target>.raw} files are written
     * @return the rebuilt files by target
     * @throws IOException when a master or a rebuilt disk does not match its SHA-256, or the delta is damaged
     */
    public static Map<String, Path> rebuild(Path delta, Map<String, Path> masters, Path outDir) throws IOException {
        Map<String, Path> rebuilt = new LinkedHashMap<>();
        try (DataInputStream in = new DataInputStream(Files.newInputStream(delta))) {
            JsonNode header = readHeader(in);
            for (JsonNode disk : header.path("disks")) {
                String target = disk.path("target").asText();
                Path master = masters.get(target);
                if (master == null) {
                    throw new IOException("no master given for disk " + target);
                }
                String masterSha = HexFormat.of().formatHex(ConvergentEncryption.sha256(master));
                if (!masterSha.equals(disk.path("master").path("sha256").asText())) {
                    throw new IOException("the master given for " + target + " is not the one the delta was made"
                            + " against (sha256 " + masterSha + ")");
                }
                Path out = outDir.resolve(target.replaceAll("[^A-Za-z0-9_-]", "_") + ".raw");
                Files.copy(master, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                // The master's SHA-256 is taken over the disk's virtual size, so a master that matches has that size:
                // a delta claiming another cannot make a rebuild write or hash more than the master holds.
                long size = disk.path("virtualSize").asLong();
                if (size != Files.size(master)) {
                    throw new IOException("the delta says disk " + target + " has " + size + " bytes; its master has "
                            + Files.size(master));
                }
                try (FileChannel file = FileChannel.open(out, StandardOpenOption.WRITE)) {
                    byte[] buffer = new byte[CHUNK];
                    long previousEnd = 0;
                    for (JsonNode run : disk.path("runs")) {
                        long offset = run.path("offset").asLong();
                        long length = run.path("length").asLong();
                        if (offset < 0 || length < 0 || offset > size - length) {
                            throw new IOException("disk delta run out of bounds: " + offset + "+" + length);
                        }
                        // Runs are written in ascending order without overlap; others would rewrite the disk at will.
                        if (offset < previousEnd) {
                            throw new IOException("disk delta run " + offset + "+" + length + " overlaps or precedes"
                                    + " the one before it, which ends at " + previousEnd);
                        }
                        previousEnd = offset + length;
                        boolean zero = run.path("zero").asBoolean(false);
                        for (long done = 0; done < length; ) {
                            int n = (int) Math.min(buffer.length, length - done);
                            if (zero) {
                                Arrays.fill(buffer, 0, n, (byte) 0);
                            } else {
                                in.readFully(buffer, 0, n);
                            }
                            ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
                            long at = offset + done;
                            while (chunk.hasRemaining()) {
                                at += file.write(chunk, at);
                            }
                            done += n;
                        }
                    }
                }
                String sha = HexFormat.of().formatHex(ConvergentEncryption.sha256(out));
                if (!sha.equals(disk.path("sha256").asText())) {
                    throw new IOException(
                            "the rebuilt " + target + " does not match the crashed disk (sha256 " + sha + ")");
                }
                rebuilt.put(target, out);
            }
        }
        return rebuilt;
    }

    private static boolean allZero(byte[] bytes, int from, int length) {
        for (int i = from; i < from + length; i++) {
            if (bytes[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
