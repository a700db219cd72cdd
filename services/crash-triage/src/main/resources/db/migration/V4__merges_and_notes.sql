-- A report's own bucket (from its signature) beside the bucket it counts in, which an analyst's merge may change.
ALTER TABLE report ADD COLUMN origin_bucket_id uuid;
UPDATE report SET origin_bucket_id = bucket_id;
ALTER TABLE report ALTER COLUMN origin_bucket_id SET NOT NULL;
CREATE INDEX report_origin ON report (origin_bucket_id, bucket_id);

-- An admin's merge of one bucket into another. Keyed by the merged bucket, which every key of its signature maps
-- to, so reports filed later under any key of it land in the target too.
CREATE TABLE bucket_merge (
    source_bucket_id  uuid PRIMARY KEY REFERENCES bucket (id),
    target_bucket_id  uuid        NOT NULL REFERENCES bucket (id),
    merged_by         text        NOT NULL,
    merged_at         timestamptz NOT NULL,
    reason            text
);
CREATE INDEX bucket_merge_target ON bucket_merge (target_bucket_id);

-- Analysts' notes and links (bug-tracker URLs) on a bucket, with who wrote them and when.
CREATE TABLE bucket_note (
    id          bigserial PRIMARY KEY,
    bucket_id   uuid        NOT NULL REFERENCES bucket (id),
    kind        text        NOT NULL CHECK (kind IN ('note', 'link')),
    text        text,
    url         text,
    author      text        NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX bucket_note_bucket ON bucket_note (bucket_id, kind, created_at DESC);
