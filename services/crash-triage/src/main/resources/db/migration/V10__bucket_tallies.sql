-- Roll-ups of reports for the top-buckets ranking, so that it sums a few rows per bucket instead of counting reports.
-- Kept when a report is filed and rebuilt for a bucket when a merge or unmerge moves reports; a window is answered
-- from whole UTC days, then whole hours, then the reports themselves for the minutes at its edges.
--
-- Per bucket and period, for the whole fleet. grain: 'd' (a UTC day) or 'h' (an hour); period: its start.
CREATE TABLE bucket_tally (
    grain      "char"      NOT NULL CHECK (grain IN ('d', 'h')),
    period     timestamptz NOT NULL,
    bucket_id  uuid        NOT NULL,
    reports    bigint      NOT NULL,
    first_at   timestamptz NOT NULL,
    last_at    timestamptz NOT NULL,
    PRIMARY KEY (grain, period, bucket_id) INCLUDE (reports, first_at, last_at)
);
CREATE INDEX bucket_tally_bucket ON bucket_tally (bucket_id);

-- The same per product and release (an unknown one is '', as in bucket_release).
CREATE TABLE release_tally (
    product    text        NOT NULL,
    release    text        NOT NULL,
    grain      "char"      NOT NULL CHECK (grain IN ('d', 'h')),
    period     timestamptz NOT NULL,
    bucket_id  uuid        NOT NULL,
    reports    bigint      NOT NULL,
    first_at   timestamptz NOT NULL,
    last_at    timestamptz NOT NULL,
    PRIMARY KEY (product, release, grain, period, bucket_id) INCLUDE (reports, first_at, last_at)
);
CREATE INDEX release_tally_bucket ON release_tally (bucket_id);

-- The hosts and VMs a bucket's reports of a UTC day came from, as HyperLogLog sketches: 1,024 one-byte registers,
-- register i holding the highest rank seen among identities hashed to it. Sketches of several days (or releases)
-- merge by the maximum of each register, so distinct hosts and VMs over a window cost one row per bucket and day.
CREATE TABLE bucket_reach (
    bucket_id  uuid        NOT NULL,
    day        timestamptz NOT NULL,
    hosts      bytea       NOT NULL,
    vms        bytea       NOT NULL,
    PRIMARY KEY (bucket_id, day)
) WITH (toast_tuple_target = 256);

CREATE TABLE release_reach (
    product    text        NOT NULL,
    release    text        NOT NULL,
    bucket_id  uuid        NOT NULL,
    day        timestamptz NOT NULL,
    hosts      bytea       NOT NULL,
    vms        bytea       NOT NULL,
    PRIMARY KEY (product, release, bucket_id, day)
) WITH (toast_tuple_target = 256);
CREATE INDEX release_reach_bucket ON release_reach (bucket_id);
-- A sketch of a few identities is mostly zeros: compressed in line (rows over 256 bytes), a rare bucket's day is small.
ALTER TABLE bucket_reach ALTER COLUMN hosts SET STORAGE MAIN, ALTER COLUMN vms SET STORAGE MAIN;
ALTER TABLE release_reach ALTER COLUMN hosts SET STORAGE MAIN, ALTER COLUMN vms SET STORAGE MAIN;

-- An identity added to a sketch: the first 10 bits of its SHA-256 choose the register, the position of the first
-- 1 bit in the next 54 is its rank (55 when they are all 0).
CREATE FUNCTION reach_add(sketch bytea, identity text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT set_byte(sketch, r.i, greatest(get_byte(sketch, r.i), r.rank))
    FROM (SELECT substring(h.b FROM 1 FOR 10)::int AS i,
                 coalesce(nullif(position(B'1' IN substring(h.b FROM 11)), 0), 55) AS rank
          FROM (SELECT ('x' || encode(substring(sha256(convert_to(identity, 'UTF8')) FROM 1 FOR 8), 'hex'))::bit(64)
                       AS b) h) r
$$;

-- An empty sketch.
CREATE FUNCTION reach_empty() RETURNS bytea LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT decode(repeat('00', 1024), 'hex')
$$;

CREATE FUNCTION reach_step(sketch bytea, identity text) RETURNS bytea
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN identity IS NULL THEN coalesce(sketch, reach_empty())
                ELSE reach_add(coalesce(sketch, reach_empty()), identity) END
$$;

-- The sketch of a set of identities.
CREATE AGGREGATE reach_of(text) (SFUNC = reach_step, STYPE = bytea);

-- Reports filed before this migration.
INSERT INTO bucket_tally (grain, period, bucket_id, reports, first_at, last_at)
SELECT g.grain, date_trunc(CASE g.grain WHEN 'd' THEN 'day' ELSE 'hour' END, r.detected_at, 'UTC'), r.bucket_id,
       count(*), min(r.detected_at), max(r.detected_at)
FROM report r CROSS JOIN (VALUES ('d'::"char"), ('h'::"char")) g (grain)
GROUP BY 1, 2, 3;
INSERT INTO release_tally (product, release, grain, period, bucket_id, reports, first_at, last_at)
SELECT coalesce(r.product, ''), coalesce(r.release, ''), g.grain,
       date_trunc(CASE g.grain WHEN 'd' THEN 'day' ELSE 'hour' END, r.detected_at, 'UTC'), r.bucket_id,
       count(*), min(r.detected_at), max(r.detected_at)
FROM report r CROSS JOIN (VALUES ('d'::"char"), ('h'::"char")) g (grain)
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO bucket_reach (bucket_id, day, hosts, vms)
SELECT bucket_id, date_trunc('day', detected_at, 'UTC'), reach_of(host_id), reach_of(vm_uuid)
FROM report GROUP BY 1, 2;
INSERT INTO release_reach (product, release, bucket_id, day, hosts, vms)
SELECT coalesce(product, ''), coalesce(release, ''), bucket_id, date_trunc('day', detected_at, 'UTC'),
       reach_of(host_id), reach_of(vm_uuid)
FROM report GROUP BY 1, 2, 3, 4;
