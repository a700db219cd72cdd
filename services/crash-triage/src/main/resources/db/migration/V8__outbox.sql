-- Events on vigil.crash.triaged.v1 are written here by the transaction that decides them (a new bucket, a merge, a
-- collection policy change, a regression) and relayed to Kafka after it commits, oldest first; a relayed row is
-- deleted once the broker has acknowledged it. An event therefore goes out if and only if its transaction
-- committed, at least once (consumers deduplicate by its event id, which is derived from what it announces).
CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    bucket_id  uuid        NOT NULL,
    event_id   text        NOT NULL,
    payload    bytea       NOT NULL,
    staged_at  timestamptz NOT NULL DEFAULT now()
);
