-- Every report's keys and title under every rules version it was signed with: at filing under the rules in force,
-- and for every stored report when a new rules version comes into force (re-signed from report.facts).
CREATE TABLE report_key (
    incident_id    text    NOT NULL REFERENCES report (incident_id),
    rules_version  integer NOT NULL,
    instant_key    text    NOT NULL,
    symbolic_key   text    NOT NULL,
    title          text    NOT NULL,
    PRIMARY KEY (incident_id, rules_version)
);
CREATE INDEX report_key_symbolic ON report_key (rules_version, symbolic_key);
INSERT INTO report_key (incident_id, rules_version, instant_key, symbolic_key, title)
SELECT r.incident_id, b.rules_version, r.instant_key, r.symbolic_key, r.title
FROM report r JOIN bucket b ON b.id = r.origin_bucket_id;

-- The bucket each symbolic key files into. A bucket's own key, and under a later rules version the keys its stored
-- reports sign to, so a rules change never makes a second bucket for the same reports; merges stay keyed by bucket.
CREATE TABLE bucket_key (
    symbolic_key   text PRIMARY KEY,
    rules_version  integer NOT NULL,
    bucket_id      uuid    NOT NULL REFERENCES bucket (id)
);
CREATE INDEX bucket_key_bucket ON bucket_key (bucket_id, rules_version);
INSERT INTO bucket_key (symbolic_key, rules_version, bucket_id) SELECT symbolic_key, rules_version, id FROM bucket;

-- Rules versions every stored report has keys of.
CREATE TABLE rules_applied (
    rules_version  integer PRIMARY KEY,
    applied_at     timestamptz NOT NULL,
    reports        bigint      NOT NULL,
    unsignable     bigint      NOT NULL
);
INSERT INTO rules_applied (rules_version, applied_at, reports, unsignable)
SELECT v.rules_version, now(), (SELECT count(*) FROM report), 0
FROM (SELECT DISTINCT rules_version FROM report_key) v
WHERE NOT EXISTS (SELECT 1 FROM report r WHERE NOT EXISTS (
    SELECT 1 FROM report_key k WHERE k.incident_id = r.incident_id AND k.rules_version = v.rules_version));
