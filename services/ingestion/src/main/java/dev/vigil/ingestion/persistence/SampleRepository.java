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
 * {@code unnest}), whatever its size; never one insert per sample. Each host keeps one row per resolution bucket
 * ({@code host_sample}), the bucket's earliest sample record with one array per column; the view {@code vm_sample}
 * reads it per VM.
 */
@ApplicationScoped
public class SampleRepository {

    /** Hosts whose stored bucket is remembered; past it the memory is dropped and rebuilt from traffic. */
    static final int REMEMBERED_HOSTS = 100_000;

    private final EntityManager entityManager;
    private final TransactionSynchronizationRegistry transactions;
    /**
     * The newest bucket each host has a committed row for, and that row's sample time. A host's later samples in that
     * bucket cannot replace the row (the earliest sample of a bucket wins), so they do not travel to PostgreSQL at
     * all: most sample records, since an agent samples every few seconds and keeps one row a minute. Filled only
     * after a commit, so a rolled-back batch leaves nothing behind; a forgotten host costs one conflict, never a
     * lost or wrong row.
     */
    private final Map<String, Stored> storedBuckets = new ConcurrentHashMap<>();

    /** A host's newest stored bucket and the sample time of its row there (both epoch milliseconds). */
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
     * @param resolution one row is kept per host per bucket of this length (the earliest sample record in it); zero
     *     keeps every sample
     * @return how many sample records were new
     */
    public int insertBatch(List<SampleRecord> batch, Instant receivedAt, Duration resolution) {
        if (batch.isEmpty()) {
            return 0;
        }
        return entityManager.unwrap(Session.class).doReturningWork(connection -> {
            Set<String> fresh = insertIndex(connection, batch, receivedAt);
            insertHostRows(connection, batch, fresh, resolution);
            return fresh.size();
        });
    }

    private void rememberAfterCommit(List<HostSampleRow> rows) {
        transactions.registerInterposedSynchronization(new Synchronization() {
            @Override
            public void beforeCompletion() {}

            @Override
            public void afterCompletion(int status) {
                if (status != Status.STATUS_COMMITTED) {
                    return;
                }
                if (storedBuckets.size() > REMEMBERED_HOSTS) {
                    storedBuckets.clear();
                }
                for (HostSampleRow row : rows) {
                    storedBuckets.merge(row.host(), new Stored(row.bucket(), row.sampledAt()), Stored::newer);
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

    /** Deletes sample rows and their index older than {@code before}; returns the VM samples deleted. */
    public long deleteOlderThan(Instant before) {
        entityManager
                .createNativeQuery("DELETE FROM sample_batch WHERE sampled_at < :before")
                .setParameter("before", before)
                .executeUpdate();
        Number vms = (Number) entityManager
                .createNativeQuery("""
                        WITH deleted AS (
                            DELETE FROM host_sample WHERE sampled_at < :before RETURNING cardinality(vm_uuids) AS n)
                        SELECT coalesce(sum(n), 0) FROM deleted""")
                .setParameter("before", before)
                .getSingleResult();
        return vms.longValue();
    }

    /** One host row as it is sent: a sample record's VMs; times in epoch milliseconds. */
    private record HostSampleRow(String host, long sampledAt, long bucket, List<VmRow> vms) {}

    private record HostBucket(String host, long bucket) {}

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

    private void insertHostRows(Connection connection, List<SampleRecord> batch, Set<String> fresh, Duration resolution)
            throws SQLException {
        // The earliest sample record of each host and bucket in this batch; the database keeps the earliest of all
        // batches, whichever commits first (two batches of a host may be written at once).
        Map<HostBucket, HostSampleRow> kept = new HashMap<>();
        boolean remembered = resolution.toMillis() > 0;
        // Duplicates are rare (a redelivery, an agent's resend): when none came, no event id needs looking up.
        boolean allFresh = fresh.size() == batch.size();
        for (SampleRecord s : batch) {
            if (!allFresh && !fresh.contains(s.eventId())) {
                continue;
            }
            long sampledAt = s.sampledAt().toEpochMilli();
            long bucket = bucket(s.sampledAt(), resolution).toEpochMilli();
            Stored stored = remembered ? storedBuckets.get(s.hostId()) : null;
            if (stored != null && stored.bucket() == bucket && stored.sampledAt() <= sampledAt) {
                continue;
            }
            kept.merge(
                    new HostBucket(s.hostId(), bucket),
                    new HostSampleRow(s.hostId(), sampledAt, bucket, s.vms()),
                    (a, b) -> b.sampledAt() < a.sampledAt() ? b : a);
        }
        if (kept.isEmpty()) {
            return;
        }
        // In key order, as the index rows: concurrent writers lock (host, bucket) rows in the same order.
        List<HostSampleRow> rows = new ArrayList<>(kept.values());
        rows.sort(Comparator.comparing(HostSampleRow::host).thenComparingLong(HostSampleRow::bucket));
        if (remembered) {
            rememberAfterCommit(rows);
        }
        int n = rows.size();
        String[] hosts = new String[n];
        long[] times = new long[n];
        long[] buckets = new long[n];
        int[] firsts = new int[n];
        int[] lasts = new int[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            HostSampleRow row = rows.get(i);
            hosts[i] = row.host();
            times[i] = row.sampledAt();
            buckets[i] = row.bucket();
            firsts[i] = m + 1; // PostgreSQL arrays count from 1; a slice's bounds are inclusive
            m += row.vms().size();
            lasts[i] = m;
        }
        // The rows' VMs one after another; each row takes its slice.
        String[] vms = new String[m];
        String[] states = new String[m];
        Long[] cpu = new Long[m];
        long[] read = new long[m];
        long[] written = new long[m];
        long[] received = new long[m];
        long[] sent = new long[m];
        Long[] balloon = new Long[m];
        int j = 0;
        for (HostSampleRow row : rows) {
            for (VmRow vm : row.vms()) {
                vms[j] = vm.uuid();
                states[j] = vm.state();
                cpu[j] = vm.cpuTimeNanos();
                read[j] = vm.readBytes();
                written[j] = vm.writeBytes();
                received[j] = vm.rxBytes();
                sent[j] = vm.txBytes();
                balloon[j] = vm.balloonKib();
                j++;
            }
        }
        PGConnection pg = connection.unwrap(PGConnection.class);
        try (PreparedStatement insert = connection.prepareStatement("""
                INSERT INTO host_sample (host_id, bucket, sampled_at, vm_uuids, states, cpu_time_ns, read_bytes,
                    write_bytes, rx_bytes, tx_bytes, balloon_kib)
                SELECT r.host, 'epoch'::timestamptz + r.bucket * interval '1 millisecond',
                    'epoch'::timestamptz + r.at * interval '1 millisecond',
                    ((?::text[])[r.lo:r.hi])::uuid[], (?::text[])[r.lo:r.hi],
                    (?::int8[])[r.lo:r.hi], (?::int8[])[r.lo:r.hi], (?::int8[])[r.lo:r.hi],
                    (?::int8[])[r.lo:r.hi], (?::int8[])[r.lo:r.hi], (?::int8[])[r.lo:r.hi]
                FROM unnest(?::text[], ?::int8[], ?::int8[], ?::int4[], ?::int4[]) AS r(host, at, bucket, lo, hi)
                ON CONFLICT (host_id, bucket) DO UPDATE SET sampled_at = EXCLUDED.sampled_at,
                    vm_uuids = EXCLUDED.vm_uuids, states = EXCLUDED.states, cpu_time_ns = EXCLUDED.cpu_time_ns,
                    read_bytes = EXCLUDED.read_bytes, write_bytes = EXCLUDED.write_bytes,
                    rx_bytes = EXCLUDED.rx_bytes, tx_bytes = EXCLUDED.tx_bytes, balloon_kib = EXCLUDED.balloon_kib
                WHERE host_sample.sampled_at > EXCLUDED.sampled_at""")) {
            insert.setArray(1, pg.createArrayOf("text", vms));
            insert.setArray(2, pg.createArrayOf("text", states));
            insert.setArray(3, pg.createArrayOf("int8", cpu));
            insert.setArray(4, pg.createArrayOf("int8", read));
            insert.setArray(5, pg.createArrayOf("int8", written));
            insert.setArray(6, pg.createArrayOf("int8", received));
            insert.setArray(7, pg.createArrayOf("int8", sent));
            insert.setArray(8, pg.createArrayOf("int8", balloon));
            insert.setArray(9, pg.createArrayOf("text", hosts));
            insert.setArray(10, pg.createArrayOf("int8", times));
            insert.setArray(11, pg.createArrayOf("int8", buckets));
            insert.setArray(12, pg.createArrayOf("int4", firsts));
            insert.setArray(13, pg.createArrayOf("int4", lasts));
            insert.executeUpdate();
        }
    }
}
