-- The event index: one row per accepted agent event, keyed by its event id (the dedupe key).
CREATE TABLE agent_event (
    event_id     text        PRIMARY KEY,
    event_type   text        NOT NULL,
    kind         text        NOT NULL,
    tenant       text        NOT NULL,
    host_id      text        NOT NULL,
    vm_uuid      text,
    state        text,
    reason       text,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    summary      text        NOT NULL,
    kafka_topic  text        NOT NULL,
    kafka_partition integer  NOT NULL,
    kafka_offset bigint      NOT NULL
);
CREATE INDEX agent_event_vm_time ON agent_event (vm_uuid, occurred_at, kafka_offset);
CREATE INDEX agent_event_host_time ON agent_event (host_id, occurred_at);

-- Fleet inventory.
CREATE TABLE host (
    host_id       text        PRIMARY KEY,
    tenant        text        NOT NULL,
    agent_id      text        NOT NULL,
    agent_version text        NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL
);

CREATE TABLE vm (
    vm_uuid      text        PRIMARY KEY,
    name         text        NOT NULL,
    host_id      text        NOT NULL,
    tenant       text        NOT NULL,
    state        text,
    state_reason text,
    state_at     timestamptz,
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL
);
CREATE INDEX vm_host ON vm (host_id);
