-- One row per sample record (the dedupe key) and one compact row per VM in it.
CREATE TABLE sample_batch (
    event_id    text        PRIMARY KEY,
    host_id     text        NOT NULL,
    sampled_at  timestamptz NOT NULL,
    vm_count    integer     NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX sample_batch_time ON sample_batch (sampled_at);

CREATE TABLE vm_sample (
    vm_uuid      text        NOT NULL,
    sampled_at   timestamptz NOT NULL,
    host_id      text        NOT NULL,
    state        text        NOT NULL,
    cpu_time_ns  bigint,
    read_bytes   bigint      NOT NULL,
    write_bytes  bigint      NOT NULL,
    rx_bytes     bigint      NOT NULL,
    tx_bytes     bigint      NOT NULL,
    balloon_kib  bigint,
    PRIMARY KEY (vm_uuid, sampled_at)
);
CREATE INDEX vm_sample_time ON vm_sample (sampled_at);
