package dev.vigil.ingestion.persistence;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.sql.Array;
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

    /** What ingestion keeps of one VM's sample: its state and the counters summed over its devices. */
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

    private void rememberAfterCommit(List<Object[]> rows) {
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
                for (Object[] row : rows) {
                    storedBuckets.merge(
                            (String) row[0],
                            new Stored(((Timestamp) row[10]).getTime(), ((Timestamp) row[1]).getTime()),
                            Stored::newer);
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

    private static Set<String> insertIndex(Connection connection, List<SampleRecord> batch, Instant receivedAt)
            throws SQLException {
        // In key order: concurrent writers then take row locks in the same order and cannot deadlock.
        List<SampleRecord> sorted = new ArrayList<>(batch);
        sorted.sort(Comparator.comparing(SampleRecord::eventId));
        batch = sorted;
        int n = batch.size();
        String[] ids = new String[n];
        String[] hosts = new String[n];
        Timestamp[] times = new Timestamp[n];
        Integer[] counts = new Integer[n];
        for (int i = 0; i < n; i++) {
            SampleRecord s = batch.get(i);
            ids[i] = s.eventId();
            hosts[i] = s.hostId();
            times[i] = Timestamp.from(s.sampledAt());
            counts[i] = s.vms().size();
        }
        Set<String> fresh = new HashSet<>();
        try (PreparedStatement insert = connection.prepareStatement("""
                INSERT INTO sample_batch (event_id, host_id, sampled_at, vm_count, received_at)
                SELECT u.id, u.host, u.at, u.n, ? FROM unnest(?::text[], ?::text[], ?::timestamptz[], ?::int[])
                    AS u(id, host, at, n)
                ON CONFLICT (event_id) DO NOTHING
                RETURNING event_id""")) {
            insert.setTimestamp(1, Timestamp.from(receivedAt));
            insert.setArray(2, connection.createArrayOf("text", ids));
            insert.setArray(3, connection.createArrayOf("text", hosts));
            insert.setArray(4, connection.createArrayOf("timestamptz", times));
            insert.setArray(5, connection.createArrayOf("int4", counts));
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
        Map<String, Object[]> kept = new HashMap<>();
        boolean remembered = resolution.toMillis() > 0;
        for (SampleRecord s : batch) {
            if (!fresh.contains(s.eventId())) {
                continue;
            }
            Instant bucket = bucket(s.sampledAt(), resolution);
            for (VmRow vm : s.vms()) {
                Stored stored = remembered ? storedBuckets.get(vm.uuid()) : null;
                if (stored != null
                        && stored.bucket() == bucket.toEpochMilli()
                        && stored.sampledAt() <= s.sampledAt().toEpochMilli()) {
                    continue;
                }
                String key = vm.uuid() + '|' + bucket.toEpochMilli();
                Object[] earlier = kept.get(key);
                if (earlier != null && !((Timestamp) earlier[1]).toInstant().isAfter(s.sampledAt())) {
                    continue;
                }
                kept.put(key, new Object[] {
                    vm.uuid(),
                    Timestamp.from(s.sampledAt()),
                    s.hostId(),
                    vm.state(),
                    vm.cpuTimeNanos(),
                    vm.readBytes(),
                    vm.writeBytes(),
                    vm.rxBytes(),
                    vm.txBytes(),
                    vm.balloonKib(),
                    Timestamp.from(bucket)
                });
            }
        }
        // In key order, as the index rows: concurrent writers lock (VM, bucket) rows in the same order.
        List<Object[]> rows = new ArrayList<>(kept.values());
        rows.sort(Comparator.<Object[], String>comparing(r -> (String) r[0]).thenComparing(r -> (Timestamp) r[10]));
        if (rows.isEmpty()) {
            return;
        }
        if (remembered) {
            rememberAfterCommit(rows);
        }
        String[] types = {
            "text", "timestamptz", "text", "text", "int8", "int8", "int8", "int8", "int8", "int8", "timestamptz"
        };
        try (PreparedStatement insert = connection.prepareStatement("""
                INSERT INTO vm_sample (vm_uuid, sampled_at, host_id, state, cpu_time_ns, read_bytes, write_bytes,
                    rx_bytes, tx_bytes, balloon_kib, bucket)
                SELECT * FROM unnest(?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::int8[], ?::int8[],
                    ?::int8[], ?::int8[], ?::int8[], ?::int8[], ?::timestamptz[])
                ON CONFLICT (vm_uuid, bucket) DO UPDATE SET sampled_at = EXCLUDED.sampled_at,
                    host_id = EXCLUDED.host_id, state = EXCLUDED.state, cpu_time_ns = EXCLUDED.cpu_time_ns,
                    read_bytes = EXCLUDED.read_bytes, write_bytes = EXCLUDED.write_bytes,
                    rx_bytes = EXCLUDED.rx_bytes, tx_bytes = EXCLUDED.tx_bytes, balloon_kib = EXCLUDED.balloon_kib
                WHERE vm_sample.sampled_at > EXCLUDED.sampled_at""")) {
            for (int column = 0; column < types.length; column++) {
                Object[] values = new Object[rows.size()];
                for (int r = 0; r < rows.size(); r++) {
                    values[r] = rows.get(r)[column];
                }
                Array array = connection.createArrayOf(types[column], values);
                insert.setArray(column + 1, array);
            }
            insert.executeUpdate();
        }
    }
}
