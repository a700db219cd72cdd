-- Compact samples: one row per host and resolution bucket, holding that bucket's earliest sample record of the
-- host with one array per column (the VMs in the record's order), instead of one row per VM and bucket. An agent
-- samples all its VMs in one record, so a host with 10 VMs writes one heap tuple and one index entry a minute
-- instead of ten: per-row costs (tuple header, index descent, WAL records) dominated inserting the samples.
--
-- A VM that starts in the middle of a bucket appears from the next one; counters are cumulative, so the rates
-- between two buckets stay exact. The full-resolution stream stays on the samples topic for the energy service.
CREATE TABLE host_sample (
    host_id     text COLLATE "C" NOT NULL,
    bucket      timestamptz      NOT NULL,
    sampled_at  timestamptz      NOT NULL,
    vm_uuids    uuid[]           NOT NULL,
    states      text[]           NOT NULL,
    cpu_time_ns bigint[]         NOT NULL,
    read_bytes  bigint[]         NOT NULL,
    write_bytes bigint[]         NOT NULL,
    rx_bytes    bigint[]         NOT NULL,
    tx_bytes    bigint[]         NOT NULL,
    balloon_kib bigint[]         NOT NULL,
    PRIMARY KEY (host_id, bucket)
);
-- Rows of hosts with up to about 100 VMs stay in the table's pages as they are, rather than being compressed or
-- moved out of line (past 2 KB by default), which would cost CPU on every insert.
ALTER TABLE host_sample SET (toast_tuple_target = 8160);
CREATE INDEX host_sample_time ON host_sample USING brin (sampled_at);

-- Rows stored per VM so far become one row per host and bucket. Within a bucket their VMs' samples may come from
-- different records (each VM kept its own earliest); the row takes the earliest of their times.
INSERT INTO host_sample (host_id, bucket, sampled_at, vm_uuids, states, cpu_time_ns, read_bytes, write_bytes,
    rx_bytes, tx_bytes, balloon_kib)
SELECT host_id, bucket, min(sampled_at), array_agg(vm_uuid ORDER BY vm_uuid), array_agg(state ORDER BY vm_uuid),
    array_agg(cpu_time_ns ORDER BY vm_uuid), array_agg(read_bytes ORDER BY vm_uuid),
    array_agg(write_bytes ORDER BY vm_uuid), array_agg(rx_bytes ORDER BY vm_uuid), array_agg(tx_bytes ORDER BY vm_uuid),
    array_agg(balloon_kib ORDER BY vm_uuid)
FROM vm_sample
GROUP BY host_id, bucket;
DROP TABLE vm_sample;

-- The per-VM reading of the same rows, with the columns vm_sample had: one row per VM and bucket.
CREATE VIEW vm_sample AS
SELECT v.vm_uuid, h.sampled_at, h.host_id, v.state, v.cpu_time_ns, v.read_bytes, v.write_bytes, v.rx_bytes,
    v.tx_bytes, v.balloon_kib, h.bucket
FROM host_sample h
CROSS JOIN LATERAL unnest(h.vm_uuids, h.states, h.cpu_time_ns, h.read_bytes, h.write_bytes, h.rx_bytes, h.tx_bytes,
    h.balloon_kib) AS v(vm_uuid, state, cpu_time_ns, read_bytes, write_bytes, rx_bytes, tx_bytes, balloon_kib);
