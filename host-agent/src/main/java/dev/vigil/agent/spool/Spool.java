package dev.vigil.agent.spool;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The agent's durable spool: a record counts as captured once it is here. Evidence is fsynced on every append and
 * never shed; samples are group-synced ({@link #sync()}) and their oldest segments are shed first when the spool
 * is over {@code maxBytes}. A publisher reads, publishes and acknowledges; after a restart, reading resumes at the
 * first record not acknowledged.
 */
public final class Spool implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Spool.class.getName());

    private final Map<Lane, SpoolLane> lanes = new EnumMap<>(Lane.class);
    private final long maxBytes;
    private final AtomicLong shedRecords = new AtomicLong();
    private final AtomicLong shedBytes = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition appended = lock.newCondition();
    // Counts appends and wake-ups (guarded by lock): a reader that saw a value waits only while it is unchanged,
    // so a signal between its last read and its wait is never lost.
    private long changes;
    private boolean overBound;

    private Spool(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /**
     * Opens (and recovers) the spool under {@code dir}.
     *
     * @param maxBytes the bound on spooled bytes; evidence may exceed it only when no samples are left to shed
     * @param segmentBytes segment size; also the granularity of shedding samples
     */
    public static Spool open(Path dir, long maxBytes, long segmentBytes) throws IOException {
        Spool spool = new Spool(maxBytes);
        int maxRecord = (int) Math.min(Integer.MAX_VALUE - SpoolLane.HEADER_BYTES, Math.max(segmentBytes, 1 << 20));
        for (Lane lane : Lane.values()) {
            spool.lanes.put(
                    lane, SpoolLane.open(dir.resolve(lane.name().toLowerCase()), lane, segmentBytes, maxRecord));
        }
        return spool;
    }

    /**
     * Appends a record to a lane.
     *
     * @return false when a sample was shed because the spool is full (evidence is always kept)
     */
    public boolean append(Lane lane, SpoolRecord record) throws IOException {
        long size = record.value().length + 256L;
        SpoolLane samples = lanes.get(Lane.SAMPLES);
        while (bytes() + size > maxBytes && samples.bytes() > 0) {
            long freed = samples.shedOldest();
            if (freed == 0) {
                break;
            }
            shedBytes.addAndGet(freed);
            LOG.log(System.Logger.Level.WARNING, "spool full: shed " + freed + " bytes of the oldest samples");
        }
        if (lane == Lane.SAMPLES && bytes() + size > maxBytes) {
            shedRecords.incrementAndGet();
            noteBound(true);
            return false;
        }
        lanes.get(lane).append(record, lane == Lane.EVIDENCE);
        noteBound(bytes() > maxBytes);
        signal();
        return true;
    }

    /** Forces group-synced samples to disk. */
    public void sync() throws IOException {
        lanes.get(Lane.SAMPLES).sync();
    }

    /** Up to {@code max} unpublished records, evidence first. */
    public List<SpooledRecord> next(int max) throws IOException {
        List<SpooledRecord> batch = new ArrayList<>(lanes.get(Lane.EVIDENCE).next(max));
        if (batch.size() < max) {
            batch.addAll(lanes.get(Lane.SAMPLES).next(max - batch.size()));
        }
        return batch;
    }

    /** The current change count; pass it to {@link #awaitChange} after finding nothing to read. */
    public long changeCount() {
        lock.lock();
        try {
            return changes;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until something is appended (or {@link #wake()} is called) after the change count was {@code seen},
     * or the timeout passes; returns at once if that already happened.
     */
    public void awaitChange(long seen, long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lock();
        try {
            while (changes == seen && nanos > 0) {
                nanos = appended.awaitNanos(nanos);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Wakes a reader waiting in {@link #awaitChange} as an append would (for state changes outside the spool). */
    public void wake() {
        signal();
    }

    /** Marks a record published (in memory; see {@link #persistCursors()}). */
    public void ack(SpooledRecord record) {
        lanes.get(record.lane()).ack(record.position());
    }

    /** Makes acknowledgements durable and deletes fully published segments; the publisher calls it periodically. */
    public void persistCursors() throws IOException {
        for (SpoolLane lane : lanes.values()) {
            lane.persistCursor();
        }
    }

    /** Re-reads every lane from its cursor: what was in flight will be published again. */
    public void rewind() {
        lanes.values().forEach(SpoolLane::rewind);
    }

    /** True when every captured record has been published. */
    public boolean drained() {
        return lanes.values().stream().allMatch(SpoolLane::drained);
    }

    /** Bytes on disk across lanes. */
    public long bytes() {
        return lanes.values().stream().mapToLong(SpoolLane::bytes).sum();
    }

    public long bytes(Lane lane) {
        return lanes.get(lane).bytes();
    }

    /** Samples refused because the spool was full. */
    public long shedRecords() {
        return shedRecords.get();
    }

    /** Bytes of old samples deleted to make room. */
    public long shedBytes() {
        return shedBytes.get();
    }

    /** Bytes lost to torn tails and corruption found on disk. */
    public long droppedBytes() {
        return lanes.values().stream().mapToLong(SpoolLane::droppedBytes).sum();
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (SpoolLane lane : lanes.values()) {
            try {
                lane.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private synchronized void noteBound(boolean over) {
        if (over != overBound) {
            overBound = over;
            LOG.log(
                    over ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
                    over
                            ? "spool reached its bound of " + maxBytes + " bytes: shedding samples, keeping evidence"
                            : "spool back under its bound of " + maxBytes + " bytes");
        }
    }

    private void signal() {
        lock.lock();
        try {
            changes++;
            appended.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
