-- One bucket per signature (symbolic key); one report per incident ingestion reported.
CREATE TABLE bucket (
    id             uuid PRIMARY KEY,
    symbolic_key   text        NOT NULL UNIQUE,
    title          text        NOT NULL,
    rules_version  integer     NOT NULL,
    report_count   bigint      NOT NULL,
    first_seen     timestamptz NOT NULL,
    last_seen      timestamptz NOT NULL
);
CREATE INDEX bucket_last_seen ON bucket (last_seen DESC);

CREATE TABLE report (
    incident_id   text PRIMARY KEY,
    bucket_id     uuid        NOT NULL REFERENCES bucket (id),
    title         text        NOT NULL,
    instant_key   text        NOT NULL,
    symbolic_key  text        NOT NULL,
    evidence      text        NOT NULL,
    product       text,
    release       text,
    vm_uuid       text        NOT NULL,
    vm_name       text,
    host_id       text        NOT NULL,
    trigger       text        NOT NULL,
    detected_at   timestamptz NOT NULL,
    complete      boolean     NOT NULL,
    facts         text,
    artifacts     text        NOT NULL
);
CREATE INDEX report_bucket ON report (bucket_id, detected_at DESC);
CREATE INDEX report_detected ON report (detected_at);
