package dev.vigil.agent.spool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * One lane of the spool: an append-only log of checksummed records in numbered segment files, a read position,
 * and a durable cursor below which everything has been published.
 *
 * <p>Record layout: magic byte {@code 0xA5}, body length (u32), CRC32C of the body (u32), body. On open, a torn
 * or corrupt tail of the newest segment is truncated; corruption inside an older segment is skipped by scanning
 * forward to the next record whose checksum matches. Either way the loss is counted, never thrown.
 */
final class SpoolLane implements AutoCloseable {

    static final byte MAGIC = (byte) 0xA5;
    static final int HEADER_BYTES = 9;
    private static final System.Logger LOG = System.getLogger(SpoolLane.class.getName());
    private static final String CURSOR_FILE = "cursor";
    private static final String SEGMENT_SUFFIX = ".seg";

    private final Path dir;
    private final Lane lane;
    private final long segmentBytes;
    private final int maxRecordBytes;
    private final TreeMap<Long, Long> segmentSizes = new TreeMap<>();
    private final TreeSet<SpoolPosition> inFlight = new TreeSet<>();
    private FileChannel active;
    private FileChannel reader;
    private long readerSegment;
    private long activeSegment;
    private SpoolPosition cursor;
    private SpoolPosition readPosition;
    private long droppedBytes;
    private boolean cursorDirty;
    // Appended without fsync since the active segment was last forced; a group sync with nothing new skips the fsync.
    private boolean unsynced;

    private SpoolLane(Path dir, Lane lane, long segmentBytes, int maxRecordBytes) {
        this.dir = dir;
        this.lane = lane;
        this.segmentBytes = segmentBytes;
        this.maxRecordBytes = maxRecordBytes;
    }

    static SpoolLane open(Path dir, Lane lane, long segmentBytes, int maxRecordBytes) throws IOException {
        Files.createDirectories(dir);
        SpoolLane spoolLane = new SpoolLane(dir, lane, segmentBytes, maxRecordBytes);
        spoolLane.recover();
        return spoolLane;
    }

    /** Appends a record; with {@code sync} it is on disk (fsync) when this returns. */
    synchronized SpoolPosition append(SpoolRecord record, boolean sync) throws IOException {
        byte[] body = record.toBytes();
        if (body.length > maxRecordBytes) {
            throw new IOException("record of " + body.length + " bytes exceeds the spool's limit of " + maxRecordBytes);
        }
        long size = segmentSizes.get(activeSegment);
        if (size > 0 && size + HEADER_BYTES + body.length > segmentBytes) {
            roll();
            size = 0;
        }
        CRC32C crc = new CRC32C();
        crc.update(body);
        ByteBuffer buffer = ByteBuffer.allocate(HEADER_BYTES + body.length);
        buffer.put(MAGIC)
                .putInt(body.length)
                .putInt((int) crc.getValue())
                .put(body)
                .flip();
        long at = size;
        while (buffer.hasRemaining()) {
            at += active.write(buffer, at);
        }
        if (sync) {
            active.force(false);
        }
        unsynced = !sync;
        segmentSizes.put(activeSegment, at);
        return new SpoolPosition(activeSegment, size);
    }

    /** Forces appended records to disk (nothing to do when every append since the last force was synced). */
    synchronized void sync() throws IOException {
        if (unsynced) {
            active.force(false);
            unsynced = false;
        }
    }

    /** Up to {@code max} records after the read position, oldest first; they count as in flight until acked. */
    synchronized List<SpooledRecord> next(int max) throws IOException {
        List<SpooledRecord> batch = new ArrayList<>();
        while (batch.size() < max) {
            Long size = segmentSizes.get(readPosition.segment());
            if (size == null || readPosition.offset() >= size) {
                Long following = segmentSizes.higherKey(readPosition.segment());
                if (following == null) {
                    break;
                }
                readPosition = new SpoolPosition(following, 0);
                continue;
            }
            Read read = readAt(readPosition.segment(), readPosition.offset(), size);
            if (read.record == null) {
                // Corrupt bytes inside a sealed segment: skip to the next good record.
                droppedBytes += read.nextOffset - readPosition.offset();
                LOG.log(
                        System.Logger.Level.WARNING,
                        lane + " spool: skipped " + (read.nextOffset - readPosition.offset())
                                + " corrupt bytes in segment " + readPosition.segment());
                readPosition = new SpoolPosition(readPosition.segment(), read.nextOffset);
                continue;
            }
            inFlight.add(readPosition);
            batch.add(new SpooledRecord(lane, readPosition, read.record));
            readPosition = new SpoolPosition(readPosition.segment(), read.nextOffset);
        }
        return batch;
    }

    /**
     * Marks a record published; moves the cursor (in memory) past every record below the oldest still in flight.
     * Called from Kafka's callback thread, so it does no I/O: {@link #persistCursor()} writes it.
     */
    synchronized void ack(SpoolPosition position) {
        inFlight.remove(position);
        SpoolPosition newCursor = normalize(inFlight.isEmpty() ? readPosition : inFlight.first());
        if (newCursor.compareTo(cursor) > 0) {
            cursor = newCursor;
            cursorDirty = true;
        }
    }

    /**
     * Writes the cursor and deletes fully published segments. A cursor older than the truth only means some
     * records are sent again after a crash (at least once); it is never ahead of what Kafka acknowledged.
     */
    synchronized void persistCursor() throws IOException {
        if (cursorDirty) {
            writeCursor();
            deleteSegmentsBefore(cursor.segment());
            cursorDirty = false;
        }
    }

    /** Forgets what is in flight and reads again from the cursor (after a failed publish). */
    synchronized void rewind() {
        inFlight.clear();
        readPosition = cursor;
    }

    /** True when every appended record has been acknowledged. */
    synchronized boolean drained() {
        SpoolPosition end = normalize(cursor);
        return end.segment() == activeSegment && end.offset() >= segmentSizes.get(activeSegment);
    }

    /** The end of a segment is the start of the next one, when there is a next one. */
    private SpoolPosition normalize(SpoolPosition position) {
        Long size = segmentSizes.get(position.segment());
        if (size != null && position.offset() >= size) {
            Long next = segmentSizes.higherKey(position.segment());
            if (next != null) {
                return new SpoolPosition(next, 0);
            }
        }
        return position;
    }

    /** Bytes on disk that are not yet behind the cursor (whole segments). */
    synchronized long bytes() {
        return segmentSizes.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Records appended and not yet acknowledged would be re-read from here after a restart. */
    synchronized SpoolPosition cursor() {
        return cursor;
    }

    synchronized long droppedBytes() {
        return droppedBytes;
    }

    /**
     * Deletes the oldest segment, read or not, to make room (samples only).
     *
     * @return bytes freed, 0 when only the active segment is left
     */
    synchronized long shedOldest() throws IOException {
        long oldest = segmentSizes.firstKey();
        if (oldest == activeSegment) {
            if (segmentSizes.get(activeSegment) == 0) {
                return 0;
            }
            roll();
        }
        long freed = segmentSizes.remove(oldest);
        closeReaderOf(oldest);
        Files.deleteIfExists(segmentPath(oldest));
        inFlight.removeIf(p -> p.segment() == oldest);
        long next = segmentSizes.firstKey();
        if (cursor.segment() <= oldest) {
            cursor = new SpoolPosition(next, 0);
            writeCursor();
        }
        if (readPosition.segment() <= oldest) {
            readPosition = new SpoolPosition(next, 0);
        }
        return freed;
    }

    @Override
    public synchronized void close() throws IOException {
        persistCursor();
        active.force(false);
        active.close();
        closeReaderOf(readerSegment);
    }

    private void closeReaderOf(long segment) throws IOException {
        if (reader != null && readerSegment == segment) {
            reader.close();
            reader = null;
        }
    }

    private void recover() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().endsWith(SEGMENT_SUFFIX))
                    .forEach(p -> segmentSizes.put(sequenceOf(p), sizeOf(p)));
        }
        cursor = readCursor();
        deleteSegmentsBefore(cursor.segment());
        if (segmentSizes.isEmpty()) {
            activeSegment = Math.max(cursor.segment(), 1);
            segmentSizes.put(activeSegment, 0L);
        } else {
            activeSegment = segmentSizes.lastKey();
            truncateTornTail(activeSegment);
        }
        if (!segmentSizes.containsKey(cursor.segment()) || cursor.offset() > segmentSizes.get(cursor.segment())) {
            cursor = new SpoolPosition(segmentSizes.firstKey(), 0);
        }
        readPosition = cursor;
        active = openForAppend(activeSegment);
    }

    /** Keeps the newest segment's valid prefix; a record cut by a crash (or garbage after it) is dropped. */
    private void truncateTornTail(long segment) throws IOException {
        long size = segmentSizes.get(segment);
        long offset = segment == cursor.segment() ? Math.min(cursor.offset(), size) : 0;
        long validEnd = offset;
        while (offset < size) {
            Read read = readAt(segment, offset, size);
            if (read.record != null) {
                offset = read.nextOffset;
                validEnd = offset;
            } else if (read.nextOffset < size) {
                // Corruption with good records after it: keep them; reading skips the bad bytes (and counts them).
                offset = read.nextOffset;
            } else {
                break;
            }
        }
        offset = validEnd;
        closeReaderOf(segment);
        if (offset < size) {
            try (FileChannel channel = FileChannel.open(segmentPath(segment), StandardOpenOption.WRITE)) {
                channel.truncate(offset);
                channel.force(true);
            }
            droppedBytes += size - offset;
            LOG.log(
                    System.Logger.Level.WARNING,
                    lane + " spool: truncated a torn tail of " + (size - offset) + " bytes in segment " + segment);
            segmentSizes.put(segment, offset);
        }
    }

    private record Read(SpoolRecord record, long nextOffset) {}

    /** Reads the record at {@code offset}; for bad bytes returns no record and the offset of the next good one. */
    private Read readAt(long segment, long offset, long size) throws IOException {
        FileChannel channel = readChannel(segment);
        Read read = tryRead(channel, offset, size);
        if (read != null) {
            return read;
        }
        for (long candidate = offset + 1; candidate < size; candidate++) {
            if (tryRead(channel, candidate, size) != null) {
                return new Read(null, candidate);
            }
        }
        return new Read(null, size);
    }

    private FileChannel readChannel(long segment) throws IOException {
        if (reader == null || readerSegment != segment) {
            if (reader != null) {
                reader.close();
            }
            reader = FileChannel.open(segmentPath(segment), StandardOpenOption.READ);
            readerSegment = segment;
        }
        return reader;
    }

    private Read tryRead(FileChannel channel, long offset, long size) throws IOException {
        if (size - offset < HEADER_BYTES) {
            return null;
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        channel.read(header, offset);
        header.flip();
        if (header.get() != MAGIC) {
            return null;
        }
        int length = header.getInt();
        int expectedCrc = header.getInt();
        if (length < 0 || length > maxRecordBytes || offset + HEADER_BYTES + length > size) {
            return null;
        }
        ByteBuffer body = ByteBuffer.allocate(length);
        while (body.hasRemaining()) {
            if (channel.read(body, offset + HEADER_BYTES + body.position()) < 0) {
                return null;
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(body.array());
        if ((int) crc.getValue() != expectedCrc) {
            return null;
        }
        try {
            return new Read(SpoolRecord.fromBytes(body.array()), offset + HEADER_BYTES + length);
        } catch (IOException e) {
            return null;
        }
    }

    private void roll() throws IOException {
        active.force(false);
        unsynced = false;
        active.close();
        activeSegment++;
        segmentSizes.put(activeSegment, 0L);
        active = openForAppend(activeSegment);
    }

    private void deleteSegmentsBefore(long segment) throws IOException {
        for (Map.Entry<Long, Long> entry :
                new ArrayList<>(segmentSizes.headMap(segment).entrySet())) {
            if (entry.getKey() != activeSegment) {
                closeReaderOf(entry.getKey());
                Files.deleteIfExists(segmentPath(entry.getKey()));
                segmentSizes.remove(entry.getKey());
            }
        }
    }

    private SpoolPosition readCursor() throws IOException {
        Path file = dir.resolve(CURSOR_FILE);
        if (!Files.exists(file)) {
            return new SpoolPosition(segmentSizes.isEmpty() ? 1 : segmentSizes.firstKey(), 0);
        }
        String[] parts =
                Files.readString(file, StandardCharsets.US_ASCII).trim().split(" ");
        try {
            return new SpoolPosition(Long.parseLong(parts[0]), Long.parseLong(parts[1]));
        } catch (RuntimeException e) {
            LOG.log(
                    System.Logger.Level.WARNING,
                    lane + " spool: unreadable cursor, re-reading from the oldest segment");
            return new SpoolPosition(segmentSizes.isEmpty() ? 1 : segmentSizes.firstKey(), 0);
        }
    }

    /** Written atomically; a process crash keeps it (page cache), an OS crash may re-send a few acked records. */
    private void writeCursor() throws IOException {
        Path tmp = dir.resolve(CURSOR_FILE + ".tmp");
        Files.writeString(tmp, cursor.segment() + " " + cursor.offset() + "\n", StandardCharsets.US_ASCII);
        try {
            Files.move(
                    tmp, dir.resolve(CURSOR_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, dir.resolve(CURSOR_FILE), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private Path segmentPath(long sequence) {
        return dir.resolve(String.format("%020d%s", sequence, SEGMENT_SUFFIX));
    }

    private static long sequenceOf(Path file) {
        String name = file.getFileName().toString();
        return Long.parseLong(name.substring(0, name.length() - SEGMENT_SUFFIX.length()));
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private FileChannel openForAppend(long segment) throws IOException {
        boolean created = !Files.exists(segmentPath(segment));
        FileChannel channel = FileChannel.open(
                segmentPath(segment), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
        if (created) {
            // The new file's directory entry must be durable too, or fsynced evidence in it could vanish.
            try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
                directory.force(true);
            }
        }
        return channel;
    }
}
