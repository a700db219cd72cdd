-- Progressive collection. A bucket counts the reports (of those counting in it) that carry a verified full memory
-- dump: an ELF core of all guest memory, what the agent's dump=full produces.
ALTER TABLE bucket ADD COLUMN full_dumps bigint NOT NULL DEFAULT 0;
UPDATE bucket b SET full_dumps = x.n
FROM (SELECT bucket_id, count(*) AS n FROM report
      WHERE artifacts::jsonb @> '[{"kind": "MEMORY_DUMP", "format": "elf", "status": "VERIFIED"}]'
      GROUP BY bucket_id) x
WHERE x.bucket_id = b.id;

-- The memory dump policy last requested for a bucket on vigil.crash.triaged.v1 (COLLECTION_POLICY): the row is what
-- makes a request go out once per change, across redeliveries and restarts; sequence numbers the changes and
-- derives the event id. No row: nothing requested yet (buckets filed before V6 get one with their next report).
CREATE TABLE collection_policy (
    bucket_id   uuid PRIMARY KEY REFERENCES bucket (id),
    dump        text        NOT NULL CHECK (dump IN ('full', 'kernel', 'none')),
    mode        text        NOT NULL CHECK (mode IN ('auto', 'override')),
    reason      text        NOT NULL,
    sequence    bigint      NOT NULL,
    full_dumps  bigint      NOT NULL,
    set_by      text,
    set_at      timestamptz NOT NULL
);
