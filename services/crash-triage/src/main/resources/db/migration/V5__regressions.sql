-- Releases of each product in the order their first report arrived: "the previous release" of a release is the one
-- whose first report came last before its own.
CREATE TABLE release_seen (
    product          text        NOT NULL,
    release          text        NOT NULL,
    first_report_at  timestamptz NOT NULL,
    last_report_at   timestamptz NOT NULL,
    PRIMARY KEY (product, release)
);
CREATE INDEX release_seen_order ON release_seen (product, first_report_at, release);
CREATE INDEX release_seen_recent ON release_seen (last_report_at);
INSERT INTO release_seen (product, release, first_report_at, last_report_at)
SELECT product, release, min(first_seen), max(last_seen) FROM bucket_release
WHERE product <> '' AND release <> '' GROUP BY product, release;

-- At most one regression verdict per bucket, product and release: the row is what makes the REGRESSION event
-- idempotent across redeliveries, sweeps and restarts.
CREATE TABLE regression (
    bucket_id          uuid             NOT NULL REFERENCES bucket (id),
    product            text             NOT NULL,
    release            text             NOT NULL,
    kind               text             NOT NULL CHECK (kind IN ('NEW_IN_RELEASE', 'RATE_INCREASE')),
    previous_release   text             NOT NULL,
    reports            bigint           NOT NULL,
    vm_hours           double precision,
    previous_reports   bigint           NOT NULL,
    previous_vm_hours  double precision,
    p_value            double precision,
    detected_at        timestamptz      NOT NULL,
    PRIMARY KEY (bucket_id, product, release)
);
CREATE INDEX regression_release ON regression (product, release);
