package dev.vigil.dispatch.domain;

import java.nio.ByteBuffer;

/**
 * Checks a master image as its bytes stream past, in order: a raw image is whole sectors; a qcow2 image has a
 * valid header (version 2 or 3, no backing file, not encrypted, not marked dirty or corrupt, no external data file),
 * its L1 and refcount tables lie inside the file, and so does everything they point to: refcount blocks, L2 tables
 * and every data cluster the L2 tables map. A truncated or corrupt image is refused with the reason before any agent
 * sees it. L2 tables are read as they pass once the L1 table is known; the few that come before it are asked for
 * afterwards ({@link #missedTables}).
 */
public final class ImageCheck {

    static final int QCOW_MAGIC = 0x514649fb;
    private static final int HEADER_BYTES = 104;
    /** The tables read to check what they point at; a 64 TiB disk with 64 KiB clusters has a 1 MiB L1 table. */
    private static final long MAX_TABLE_BYTES = 32L * 1024 * 1024;

    private static final long OFFSET_MASK = 0x00ff_ffff_ffff_fe00L;

    private final ImageFormat format;
    private final byte[] header = new byte[HEADER_BYTES];
    private int headerBytes;
    private Table l1;
    private Table refcounts;
    private final java.util.List<Table> l2 = new java.util.ArrayList<>();
    private final java.util.List<Long> missed = new java.util.ArrayList<>();
    private boolean l2Known;
    private int clusterBits;
    private String problem;
    private long clusterSize;
    private long virtualSize;

    /** The image formats a master image can have. */
    public enum ImageFormat {
        QCOW2,
        RAW
    }

    /** The outcome: the disk size the guest sees, or why the image is refused. */
    public record Outcome(long virtualSize, String problem) {

        public boolean passed() {
            return problem == null;
        }
    }

    public ImageCheck(ImageFormat format) {
        this.format = format;
    }

    /** The next bytes of the image, which start at {@code offset}. */
    public void accept(long offset, byte[] bytes, int from, int length) {
        if (problem != null) {
            return;
        }
        if (headerBytes < HEADER_BYTES && offset <= headerBytes) {
            int take = (int) Math.min(HEADER_BYTES - headerBytes, offset + length - headerBytes);
            System.arraycopy(bytes, from + (int) (headerBytes - offset), header, headerBytes, Math.max(0, take));
            headerBytes += Math.max(0, take);
            if (headerBytes == HEADER_BYTES && format == ImageFormat.QCOW2) {
                readQcowHeader();
            }
        }
        if (l1 != null) {
            l1.accept(offset, bytes, from, length);
            if (!l2Known && offset + length >= l1.end()) {
                findL2Tables(offset);
            }
        }
        if (refcounts != null) {
            refcounts.accept(offset, bytes, from, length);
        }
        for (Table table : l2) {
            table.accept(offset, bytes, from, length);
        }
    }

    /** Offsets of L2 tables that came before the L1 table: read them and hand them to {@link #acceptTable}. */
    public java.util.List<Long> missedTables() {
        return java.util.List.copyOf(missed);
    }

    /** The length of a table cluster. */
    public int tableBytes() {
        return (int) clusterSize;
    }

    /** An L2 table asked for by {@link #missedTables}. */
    public void acceptTable(long offset, byte[] bytes) {
        Table table = new Table("L2 table", offset, bytes.length);
        table.accept(offset, bytes, 0, bytes.length);
        l2.add(table);
        missed.remove(offset);
    }

    private void findL2Tables(long passing) {
        l2Known = true;
        ByteBuffer entries = ByteBuffer.wrap(l1.bytes);
        for (int i = 0; i + 8 <= l1.bytes.length; i += 8) {
            long at = entries.getLong(i) & OFFSET_MASK;
            if (at == 0) {
                continue;
            }
            if ((long) (l2.size() + missed.size() + 1) * clusterSize > MAX_TABLE_BYTES * 8) {
                problem = "the image has more L2 tables than this check reads (" + (MAX_TABLE_BYTES * 8 >> 20)
                        + " MiB of them)";
                return;
            }
            if (at >= passing) {
                l2.add(new Table("L2 table", at, (int) clusterSize));
            } else {
                missed.add(at);
            }
        }
    }

    /** Judges the whole image, {@code size} bytes long. */
    public Outcome finish(long size) {
        if (problem == null) {
            problem = format == ImageFormat.RAW ? rawProblem(size) : qcowProblem(size);
        }
        return problem == null ? new Outcome(virtualSize, null) : new Outcome(0, problem);
    }

    private String rawProblem(long size) {
        if (size == 0) {
            return "the image is empty";
        }
        if (size % 512 != 0) {
            return "a raw disk image is whole 512-byte sectors; this one is " + size + " bytes (truncated?)";
        }
        if (headerBytes >= 4 && ByteBuffer.wrap(header).getInt(0) == QCOW_MAGIC) {
            return "the image was declared raw but is a qcow2 image";
        }
        virtualSize = size;
        return null;
    }

    private void readQcowHeader() {
        ByteBuffer h = ByteBuffer.wrap(header);
        if (h.getInt(0) != QCOW_MAGIC) {
            problem = "not a qcow2 image: it does not start with the QFI\\xfb magic";
            return;
        }
        int version = h.getInt(4);
        if (version != 2 && version != 3) {
            problem = "qcow2 version " + version + " is not supported (2 or 3)";
            return;
        }
        if (h.getLong(8) != 0) {
            problem = "the image has a backing file: a master image must stand alone (qemu-img convert it)";
            return;
        }
        int clusterBits = h.getInt(20);
        if (clusterBits < 9 || clusterBits > 21) {
            problem = "qcow2 cluster_bits " + clusterBits + " is outside 9-21: the header is corrupt";
            return;
        }
        clusterSize = 1L << clusterBits;
        this.clusterBits = clusterBits;
        virtualSize = h.getLong(24);
        if (virtualSize <= 0) {
            problem = "the qcow2 header gives a disk size of " + virtualSize;
            return;
        }
        if (h.getInt(32) != 0) {
            problem = "the image is encrypted: a master image must be readable by the hypervisor";
            return;
        }
        if (version == 3) {
            long incompatible = h.getLong(72);
            if ((incompatible & 1) != 0) {
                problem = "the image is marked dirty (it was not closed cleanly): run qemu-img check -r all";
                return;
            }
            if ((incompatible & 2) != 0) {
                problem = "the image is marked corrupt";
                return;
            }
            if ((incompatible & 4) != 0) {
                problem = "the image keeps its data in an external file: a master image must stand alone";
                return;
            }
            if ((incompatible & ~0x1fL) != 0) {
                problem = "the image uses incompatible qcow2 features this check does not know ("
                        + Long.toHexString(incompatible) + ")";
                return;
            }
        }
        long l1Entries = Integer.toUnsignedLong(h.getInt(36));
        long l1Offset = h.getLong(40);
        long refcountOffset = h.getLong(48);
        long refcountBytes = Integer.toUnsignedLong(h.getInt(56)) * clusterSize;
        if (l1Offset % clusterSize != 0 || refcountOffset % clusterSize != 0 || refcountOffset == 0) {
            problem = "the qcow2 tables are not cluster-aligned: the header is corrupt";
            return;
        }
        if (l1Entries * 8 > MAX_TABLE_BYTES || refcountBytes > MAX_TABLE_BYTES) {
            problem = "the qcow2 tables are larger than " + MAX_TABLE_BYTES / (1024 * 1024) + " MiB";
            return;
        }
        l1 = new Table("L1 table", l1Offset, (int) (l1Entries * 8));
        refcounts = new Table("refcount table", refcountOffset, (int) refcountBytes);
    }

    private String qcowProblem(long size) {
        if (headerBytes < HEADER_BYTES) {
            return "the image is " + size + " bytes, too short for a qcow2 header";
        }
        for (Table table : new Table[] {l1, refcounts}) {
            String problem = pointers(table, size, OFFSET_MASK);
            if (problem != null) {
                return problem;
            }
        }
        if (!missed.isEmpty()) {
            return "truncated: the L2 table at byte " + missed.get(0) + " could not be read";
        }
        for (Table table : l2) {
            String problem = pointers(table, size, 0);
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    /** Checks a table lies in the image and points only inside it; mask 0 reads L2 entries, with compression. */
    private String pointers(Table table, long size, long mask) {
        if (table.end() > size) {
            return "truncated: the " + table.name + " at byte " + table.offset + " ends past the end of the " + size
                    + "-byte image";
        }
        ByteBuffer entries = ByteBuffer.wrap(table.bytes);
        for (int i = 0; i + 8 <= table.bytes.length; i += 8) {
            long entry = entries.getLong(i);
            long pointed;
            if (mask != 0) {
                pointed = entry & mask;
            } else if ((entry & 1L << 62) != 0) {
                // A compressed cluster: its host offset is in the low 62 - (cluster_bits - 8) bits.
                pointed = entry & ((1L << (62 - (clusterBits - 8))) - 1);
            } else {
                pointed = entry & OFFSET_MASK;
            }
            long end = mask == 0 && (entry & 1L << 62) != 0 ? pointed + 1 : pointed + clusterSize;
            if (pointed != 0 && end > size) {
                return "truncated or corrupt: the " + table.name + " at byte " + table.offset + " points at byte "
                        + pointed + ", past the end of the " + size + "-byte image";
            }
        }
        return null;
    }

    /** A table of the image, copied as its bytes pass. */
    private static final class Table {

        private final String name;
        private final long offset;
        private final byte[] bytes;

        Table(String name, long offset, int length) {
            this.name = name;
            this.offset = offset;
            this.bytes = new byte[length];
        }

        long end() {
            return offset + bytes.length;
        }

        void accept(long at, byte[] data, int from, int length) {
            long start = Math.max(at, offset);
            long stop = Math.min(at + length, end());
            if (start < stop) {
                System.arraycopy(data, from + (int) (start - at), bytes, (int) (start - offset), (int) (stop - start));
            }
        }
    }
}
