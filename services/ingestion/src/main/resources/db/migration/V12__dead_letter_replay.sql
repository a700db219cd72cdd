-- Dead-letter replays as background jobs, and the dead-letter records each one sent back: a record is sent back at
-- most once, so a replay never re-sends what an earlier one sent (its copy, if refused again, is a record of its own).
CREATE TABLE dead_letter_replay (
    id                 uuid PRIMARY KEY,
    requested_by       text        NOT NULL,
    reason             text,
    source_topic       text,
    max_records        integer     NOT NULL,
    state              text        NOT NULL CHECK (state IN ('RUNNING', 'DONE', 'FAILED', 'INTERRUPTED')),
    scanned            bigint      NOT NULL DEFAULT 0,
    already_replayed   bigint      NOT NULL DEFAULT 0,
    replayed           bigint      NOT NULL DEFAULT 0,
    failed             bigint      NOT NULL DEFAULT 0,
    replayed_by_reason jsonb       NOT NULL DEFAULT '{}',
    error              text,
    started_at         timestamptz NOT NULL,
    heartbeat_at       timestamptz NOT NULL,
    finished_at        timestamptz
);
-- One replay at a time across every replica: two would send the same record twice.
CREATE UNIQUE INDEX dead_letter_replay_one_running ON dead_letter_replay ((true)) WHERE state = 'RUNNING';
CREATE INDEX dead_letter_replay_started ON dead_letter_replay (started_at DESC);

CREATE TABLE dead_letter_replayed (
    dl_partition integer NOT NULL,
    dl_offset    bigint  NOT NULL,
    replay_id    uuid    NOT NULL REFERENCES dead_letter_replay (id),
    PRIMARY KEY (dl_partition, dl_offset)
);
