package dev.vigil.ingestion.persistence;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.hibernate.Session;
import org.postgresql.PGConnection;

/**
 * Stores samples compactly and in bulk: a batch of sample records is two statements (array parameters with
 * {@code unnest}), whatever its size; never one insert per sample.
 */
@ApplicationScoped
public class SampleRepository {

    /** VMs whose stored bucket is remembered; past it the memory is dropped and rebuilt from traffic. */
    static final int REMEMBERED_VMS = 200_000;

    private final EntityManager entityManager;
    private final TransactionSynchronizationRegistry transactions;
    /**
     * The newest bucket each VM has a committed row for, and that row's sample time. A VM's later samples in that
     * bucket cannot replace the row (the earliest sample of a bucket wins), so they do not travel to PostgreSQL at
     * all: most of a batch's VM samples, since a VM samples every few seconds and keeps one row a minute. Filled only
     * after a commit, so a rolled-back batch leaves nothing behind; a forgotten VM costs one conflict, never a lost
     * or wrong row.
     */
    private final Map<String, Stored> storedBuckets = new ConcurrentHashMap<>();

    /** A VM's newest stored bucket and the sample time of its row there (both epoch milliseconds). */
    private record Stored(long bucket, long sampledAt) {
        Stored newer(Stored other) {
            if (other.bucket != bucket) {
                return other.bucket > bucket ? other : this;
            }
            return other.sampledAt < sampledAt ? other : this;
        }
    }

    SampleRepository(EntityManager entityManager, TransactionSynchronizationRegistry transactions) {
        this.entityManager = entityManager;
        this.transactions = transactions;
    }

    /** What ingestion keeps of one sample record. */
    public record SampleRecord(String eventId, String hostId, Instant sampledAt, List<VmRow> vms) {}

    /**
     * What ingestion keeps of one VM's sample: its state and the counters summed over its devices; {@code uuid} is a
     * UUID in lower-case 36-character form.
     */
    public record VmRow(
            String uuid,
            String state,
            Long cpuTimeNanos,
            long readBytes,
            long writeBytes,
            long rxBytes,
            long txBytes,
            Long balloonKib) {}

    /**
     * Records the batch; sample records whose event id is already stored are skipped.
     *
     * @param resolution one VM row is kept per VM per bucket of this length (the earliest sample in it); zero keeps
     *     every sample
     * @return how many sample records were new
     */
    public int insertBatch(List<SampleRecord> batch, Instant receivedAt, Duration resolution) {
        if (batch.isEmpty()) {
            return 0;
        }
        return entityManager.unwrap(Session.class).doReturningWork(connection -> {
            Set<String> fresh = insertIndex(connection, batch, receivedAt);
            insertVmRows(connection, batch, fresh, resolution);
            return fresh.size();
        });
    }

    private void rememberAfterCommit(List<VmSampleRow> rows) {
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status != Status.STATUS_COMMITTED) {
                    return;
                }
                if (storedBuckets.size() > REMEMBERED_VMS) {
                    storedBuckets.clear();
                }
                for (VmSampleRow row : rows) {
                    storedBuckets.merge(row.vm(), new Stored(row.bucket(), row.sampledAt()), Stored::newer);
                }
            }
        });
    }

    /** The start of the bucket {@code at} falls in. */
    static Instant bucket(Instant at, Duration resolution) {
        long size = resolution.toMillis();
        if (size <= 0) {
            return at;
        }
        long millis = at.toEpochMilli();
        return Instant.ofEpochMilli(millis - Math.floorMod(millis, size));
    }

    /** Deletes raw VM rows and their index older than {@code before}; returns the VM rows deleted. */
    public int deleteOlderThan(Instant before) {
        entityManager
                .createNativeQuery("DELETE FROM sample_batch WHERE sampled_at < :before")
                .setParameter("before", before)
                .executeUpdate();
        return entityManager
                .createNativeQuery("DELETE FROM vm_sample WHERE sampled_at < :before")
                .setParameter("before", before)
                .executeUpdate();
    }

    /** One VM row as it is sent; times in epoch milliseconds. */
    private record VmSampleRow(
            String vm,
            long sampledAt,
            String host,
            String state,
            Long cpuTimeNanos,
            long readBytes,
            long writeBytes,
            long rxBytes,
            long txBytes,
            Long balloonKib,
            long bucket) {}

    private record BucketKey(String vm, long bucket) {}

    /*
     * Statements take one array per column. Strings and numbers go as binary arrays (typed Java arrays: pgjdbc encodes
     * an Object[] as text, which both sides would format and parse), and times as epoch milliseconds turned into
     * timestamps by arithmetic, cheaper than parsing timestamp text.
     */

    private static Set<String> insertIndex(Connection connection, List<SampleRecord> batch, Instant receivedAt)
            throws SQLException {
        // In key order: concurrent writers then take row locks in the same order and cannot deadlock.
        List<SampleRecord> sorted = new ArrayList<>(batch);
        sorted.sort(Comparator.comparing(SampleRecord::eventId));
        int n = sorted.size();
        String[] ids = new String[n];
        String[] hosts = new String[n];
        long[] times = new long[n];
        int[] counts = new int[n];
        for (int i = 0; i < n; i++) {
            SampleRecord s = sorted.get(i);
            ids[i] = s.eventId();
            hosts[i] = s.hostId();
            times[i] = s.sampledAt().toEpochMilli();
            counts[i] = s.vms().size();
        }
        PGConnection pg = connection.unwrap(PGConnection.class);
        Set<String> fresh = new HashSet<>();
        try (PreparedStatement insert = connection.prepareStatement("""
                INSERT INTO sample_batch (event_id, host_id, sampled_at, vm_count, received_at)
                SELECT u.id, u.host, 'epoch'::timestamptz + u.at * interval '1 millisecond', u.n, ?
                FROM unnest(?::text[], ?::text[], ?::int8[], ?::int4[]) AS u(id, host, at, n)
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id""")) {
            insert.setTimestamp(1, Timestamp.from(receivedAt));
            insert.setArray(2, pg.createArrayOf("text", ids));
            insert.setArray(3, pg.createArrayOf("text", hosts));
            insert.setArray(4, pg.createArrayOf("int8", times));
            insert.setArray(5, pg.createArrayOf("int4", counts));
            try (ResultSet rs = insert.executeQuery()) {
                while (rs.next()) {
                    fresh.add(rs.getString(1));
                }
            }
        }
        return fresh;
    }

    private void insertVmRows(Connection connection, List<SampleRecord> batch, Set<String> fresh, Duration resolution)
            throws SQLException {
        // The earliest sample of each VM and bucket in this batch; the database keeps the earliest of all batches,
        // whichever commits first (two batches of a VM may be written at once).
        Map<BucketKey, VmSampleRow> kept = new HashMap<>();
        boolean remembered = resolution.toMillis() > 0;
        for (SampleRecord s : batch) {
            if (!fresh.contains(s.eventId())) {
                continue;
            }
            long sampledAt = s.sampledAt().toEpochMilli();
            long bucket = bucket(s.sampledAt(), resolution).toEpochMilli();
            for (VmRow vm : s.vms()) {
                Stored stored = remembered ? storedBuckets.get(vm.uuid()) : null;
                if (stored != null && stored.bucket() == bucket && stored.sampledAt() <= sampledAt) {
                    continue;
                }
                BucketKey key = new BucketKey(vm.uuid(), bucket);
                VmSampleRow earlier = kept.get(key);
                if (earlier != null && earlier.sampledAt() <= sampledAt) {
                    continue;
                }
                kept.put(
                        key,
                        new VmSampleRow(
                                vm.uuid(),
                                sampledAt,
                                s.hostId(),
                                vm.state(),
                                vm.cpuTimeNanos(),
                                vm.readBytes(),
                                vm.writeBytes(),
                                vm.rxBytes(),
                                vm.txBytes(),
                                vm.balloonKib(),
                                bucket));
            }
        }
        if (kept.isEmpty()) {
            return;
        }
        // In key order, as the index rows: concurrent writers lock (VM, bucket) rows in the same order (VM ids
        // arrive in lower case, whose text order is the uuid order).
        List<VmSampleRow> rows = new ArrayList<>(kept.values());
        rows.sort(Comparator.comparing(VmSampleRow::vm).thenComparingLong(VmSampleRow::bucket));
        if (remembered) {
            rememberAfterCommit(rows);
        }
        int n = rows.size();
        String[] vms = new String[n];
        long[] times = new long[n];
        String[] hosts = new String[n];
        String[] states = new String[n];
        Long[] cpu = new Long[n];
        long[] read = new long[n];
        long[] written = new long[n];
        long[] received = new long[n];
        long[] sent = new long[n];
        Long[] balloon = new Long[n];
        long[] buckets = new long[n];
        for (int i = 0; i < n; i++) {
            VmSampleRow row = rows.get(i);
            vms[i] = row.vm();
            times[i] = row.sampledAt();
            hosts[i] = row.host();
            states[i] = row.state();
            cpu[i] = row.cpuTimeNanos();
            read[i] = row.readBytes();
            written[i] = row.writeBytes();
            received[i] = row.rxBytes();
            sent[i] = row.txBytes();
            balloon[i] = row.balloonKib();
            buckets[i] = row.bucket();
        }
        PGConnection pg = connection.unwrap(PGConnection.class);
        try (PreparedStatement insert = connection.prepareStatement("""
                INSERT INTO vm_sample (vm_uuid, sampled_at, host_id, state, cpu_time_ns, read_bytes, write_bytes,
                    rx_bytes, tx_bytes, balloon_kib, bucket)
                SELECT u.vm::uuid, 'epoch'::timestamptz + u.at * interval '1 millisecond', u.host, u.state, u.cpu, u.rd,
                    u.wr, u.rx, u.tx, u.balloon, 'epoch'::timestamptz + u.bucket * interval '1 millisecond'
                FROM unnest(?::text[], ?::int8[], ?::text[], ?::text[], ?::int8[], ?::int8[], ?::int8[], ?::int8[],
                    ?::int8[], ?::int8[], ?::int8[]) AS u(vm, at, host, state, cpu, rd, wr, rx, tx, balloon, bucket)
                ON CONFLICT (vm_uuid, bucket) DO UPDATE SET sampled_at = EXCLUDED.sampled_at,
                    host_id = EXCLUDED.host_id, state = EXCLUDED.state, cpu_time_ns = EXCLUDED.cpu_time_ns,
                    read_bytes = EXCLUDED.read_bytes, write_bytes = EXCLUDED.write_bytes,
                    rx_bytes = EXCLUDED.rx_bytes, tx_bytes = EXCLUDED.tx_bytes, balloon_kib = EXCLUDED.balloon_kib
                WHERE vm_sample.sampled_at > EXCLUDED.sampled_at""")) {
            insert.setArray(1, pg.createArrayOf("text", vms));
            insert.setArray(2, pg.createArrayOf("int8", times));
            insert.setArray(3, pg.createArrayOf("text", hosts));
            insert.setArray(4, pg.createArrayOf("text", states));
            insert.setArray(5, pg.createArrayOf("int8", cpu));
            insert.setArray(6, pg.createArrayOf("int8", read));
            insert.setArray(7, pg.createArrayOf("int8", written));
            insert.setArray(8, pg.createArrayOf("int8", received));
            insert.setArray(9, pg.createArrayOf("int8", sent));
            insert.setArray(10, pg.createArrayOf("int8", balloon));
            insert.setArray(11, pg.createArrayOf("int8", buckets));
            insert.executeUpdate();
        }
    }
}
