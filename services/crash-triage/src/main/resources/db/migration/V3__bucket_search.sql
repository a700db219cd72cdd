-- What analysts search buckets by: the functions of the signature, the faulting module, the Windows bugcheck.
ALTER TABLE bucket ADD COLUMN functions text[] NOT NULL DEFAULT '{}';
ALTER TABLE bucket ADD COLUMN module text;
ALTER TABLE bucket ADD COLUMN bugcheck text;
-- Buckets filed before this migration: the blamed function and the bugcheck are in their titles.
UPDATE bucket SET functions = ARRAY[substring(title FROM ' in ([^ ]+)$')] WHERE title ~ ' in [^ ]+$';
UPDATE bucket SET bugcheck = substring(title FROM '^BUGCHECK (0x[0-9A-F]+)') WHERE title ~ '^BUGCHECK 0x';

CREATE INDEX bucket_functions ON bucket USING gin (functions);
CREATE INDEX bucket_module ON bucket (module) WHERE module IS NOT NULL;
CREATE INDEX bucket_bugcheck ON bucket (bugcheck) WHERE bugcheck IS NOT NULL;
CREATE INDEX bucket_report_count ON bucket (report_count DESC, id);
-- Title text search by substring: trigram index (pg_trgm is a trusted extension since PostgreSQL 13).
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA triage;
CREATE INDEX bucket_title_trgm ON bucket USING gin (lower(title) gin_trgm_ops);

-- Reports per bucket and release: which releases a bucket is in (search, regressions) without scanning reports.
-- An unknown product or release is ''.
CREATE TABLE bucket_release (
    bucket_id     uuid        NOT NULL REFERENCES bucket (id),
    product       text        NOT NULL,
    release       text        NOT NULL,
    report_count  bigint      NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    PRIMARY KEY (bucket_id, product, release)
);
CREATE INDEX bucket_release_release ON bucket_release (product, release, first_seen);
INSERT INTO bucket_release (bucket_id, product, release, report_count, first_seen, last_seen)
SELECT bucket_id, coalesce(product, ''), coalesce(release, ''), count(*), min(detected_at), max(detected_at)
FROM report GROUP BY bucket_id, coalesce(product, ''), coalesce(release, '');
