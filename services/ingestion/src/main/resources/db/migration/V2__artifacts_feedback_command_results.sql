-- Manifests of blobs agents uploaded (claim checks); status moves once the object is verified.
CREATE TABLE artifact (
    event_id     text        PRIMARY KEY,
    tenant       text        NOT NULL,
    host_id      text        NOT NULL,
    vm_uuid      text        NOT NULL,
    incident_id  text,
    kind         text        NOT NULL,
    bucket       text        NOT NULL,
    object_key   text        NOT NULL,
    sha256       text        NOT NULL,
    size_bytes   bigint      NOT NULL,
    format       text        NOT NULL,
    encryption   text,
    partial      boolean     NOT NULL,
    status       text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE INDEX artifact_vm ON artifact (vm_uuid, occurred_at);
CREATE INDEX artifact_incident ON artifact (incident_id);

-- Users' comments about a VM.
CREATE TABLE feedback (
    event_id       text        PRIMARY KEY,
    tenant         text        NOT NULL,
    host_id        text        NOT NULL,
    vm_uuid        text        NOT NULL,
    text           text        NOT NULL,
    rating         integer,
    category       text        NOT NULL,
    screenshot_key text,
    occurred_at    timestamptz NOT NULL,
    received_at    timestamptz NOT NULL
);
CREATE INDEX feedback_vm ON feedback (vm_uuid, occurred_at);

-- What agents said about the commands sent to them.
CREATE TABLE command_result (
    event_id     text        PRIMARY KEY,
    tenant       text        NOT NULL,
    host_id      text        NOT NULL,
    command_id   text        NOT NULL,
    status       text        NOT NULL,
    refusal      text,
    message      text        NOT NULL,
    completed_at timestamptz NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE INDEX command_result_command ON command_result (command_id);
