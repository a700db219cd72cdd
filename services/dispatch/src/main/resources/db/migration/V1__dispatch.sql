-- Dispatch: the vendor's side of delivery.

CREATE TABLE product (
    id          text        PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- A release and its master image. The image is declared by a manifest of chunks, uploaded chunk by chunk, then
-- verified as a whole; only a verified image can be published (signed into the product's targets).
CREATE TABLE product_release (
    product_id       text        NOT NULL REFERENCES product (id),
    version          text        NOT NULL,
    channel          text        NOT NULL,
    state            text        NOT NULL,
    format           text,
    image_size       bigint,
    image_sha256     text,
    virtual_size     bigint,
    manifest         bytea,
    manifest_sha256  text,
    chunk_count      integer,
    verified_bytes   bigint      NOT NULL DEFAULT 0,
    rejection        text,
    domain_template  text        NOT NULL,
    template_sha256  text        NOT NULL,
    parameters       text        NOT NULL,
    notes            text        NOT NULL,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL,
    image_at         timestamptz,
    verified_at      timestamptz,
    published_by     text,
    published_at     timestamptz,
    PRIMARY KEY (product_id, version)
);

-- Chunks stored in object storage (chunks/sha256/<2 hex>/<hash>), verified against their hash on the way in.
CREATE TABLE chunk (
    sha256    text        PRIMARY KEY,
    length    integer     NOT NULL,
    stored_at timestamptz NOT NULL
);

-- The release each channel of a product offers to new installations.
CREATE TABLE channel_head (
    product_id text        NOT NULL REFERENCES product (id),
    channel    text        NOT NULL,
    version    text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (product_id, channel),
    FOREIGN KEY (product_id, version) REFERENCES product_release (product_id, version)
);

-- Every signed metadata document ever served: root versions (name 'root'), each product's targets (name = product),
-- snapshots ('snapshot') and timestamps ('timestamp'). The newest version of each is current.
CREATE TABLE metadata (
    role       text        NOT NULL,
    name       text        NOT NULL,
    version    bigint      NOT NULL,
    body       bytea       NOT NULL,
    sha256     text        NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (role, name, version)
);

-- A beta programme users enrol in: a product's channel, with the license an enrolment brings.
CREATE TABLE program (
    id                 text        PRIMARY KEY,
    product_id         text        NOT NULL REFERENCES product (id),
    channel            text        NOT NULL,
    title              text        NOT NULL,
    description        text        NOT NULL,
    open               boolean     NOT NULL,
    invitation_sha256  text,
    license_days       integer     NOT NULL,
    features           text        NOT NULL,
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL
);

-- A user's enrolment and its one-time token (stored as a hash), redeemed once by the user's agent.
CREATE TABLE enrolment (
    id               uuid        PRIMARY KEY,
    program_id       text        NOT NULL REFERENCES program (id),
    name             text        NOT NULL,
    email            text        NOT NULL,
    parameters       text        NOT NULL,
    token_sha256     text        NOT NULL UNIQUE,
    root_version     bigint      NOT NULL,
    token_expires_at timestamptz NOT NULL,
    redeemed_at      timestamptz,
    host_id          text,
    created_at       timestamptz NOT NULL
);

-- Hosts whose agents enrolled; their API token is stored as a hash.
CREATE TABLE host (
    host_id       text        PRIMARY KEY,
    enrolment_id  uuid        REFERENCES enrolment (id),
    product_id    text        NOT NULL REFERENCES product (id),
    channel       text        NOT NULL,
    token_sha256  text        NOT NULL UNIQUE,
    agent_version text,
    enrolled_at   timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL
);
CREATE INDEX host_channel ON host (product_id, channel);

CREATE TABLE license (
    id                uuid        PRIMARY KEY,
    product_id        text        NOT NULL REFERENCES product (id),
    host_id           text        NOT NULL,
    enrolment_id      uuid,
    features          text        NOT NULL,
    valid_from        timestamptz NOT NULL,
    valid_until       timestamptz NOT NULL,
    lease_seconds     bigint      NOT NULL,
    grace_seconds     bigint      NOT NULL,
    sequence          bigint      NOT NULL,
    lease_expires_at  timestamptz NOT NULL,
    grace_until       timestamptz NOT NULL,
    document          bytea       NOT NULL,
    issued_by         text        NOT NULL,
    issued_at         timestamptz NOT NULL,
    renewed_at        timestamptz,
    revoked_at        timestamptz,
    revoked_by        text,
    revocation_reason text
);
CREATE INDEX license_host ON license (host_id);

-- The last command sequence given to each host: the agent refuses any command not above the last it accepted.
CREATE TABLE host_sequence (
    host_id       text   PRIMARY KEY,
    last_sequence bigint NOT NULL
);

-- Commands are their own outbox: issued in the request's transaction, published in per-host sequence order by the
-- publisher, then followed through the agent's results.
CREATE TABLE command (
    id              uuid        PRIMARY KEY,
    host_id         text        NOT NULL,
    vm_uuid         text,
    action          text        NOT NULL,
    arguments       text        NOT NULL,
    sequence        bigint      NOT NULL,
    state           text        NOT NULL,
    origin          text        NOT NULL,
    rollout_id      uuid,
    signed          bytea       NOT NULL,
    issued_by       text        NOT NULL,
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    acknowledged_at timestamptz,
    completed_at    timestamptz,
    refusal         text,
    message         text,
    UNIQUE (host_id, sequence)
);
CREATE INDEX command_undelivered ON command (host_id, sequence) WHERE state = 'ISSUED';
CREATE INDEX command_open ON command (expires_at) WHERE state IN ('ISSUED', 'DELIVERED');
CREATE INDEX command_issued ON command (issued_at);

-- Crash triage's newest collection request per bucket, and the policy last sent to each host.
CREATE TABLE collection_request (
    bucket_id   text        PRIMARY KEY,
    sequence    bigint      NOT NULL,
    dump        text        NOT NULL,
    triggers    text        NOT NULL,
    host_ids    text[]      NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX collection_request_hosts ON collection_request USING gin (host_ids);

CREATE TABLE host_collection_policy (
    host_id    text        PRIMARY KEY,
    arguments  text        NOT NULL,
    command_id uuid        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE rollout (
    id                 uuid        PRIMARY KEY,
    product_id         text        NOT NULL REFERENCES product (id),
    version            text        NOT NULL,
    previous_version   text        NOT NULL,
    channel            text        NOT NULL,
    stages             text        NOT NULL,
    stage              integer     NOT NULL,
    state              text        NOT NULL,
    min_vm_hours       double precision NOT NULL,
    min_stage_seconds  bigint      NOT NULL,
    min_rate_ratio     double precision NOT NULL,
    significance       double precision NOT NULL,
    rollback_on_halt   boolean     NOT NULL,
    created_by         text        NOT NULL,
    created_at         timestamptz NOT NULL,
    stage_started_at   timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    FOREIGN KEY (product_id, version) REFERENCES product_release (product_id, version)
);
-- One rollout at a time may be in progress on a channel.
CREATE UNIQUE INDEX rollout_in_progress ON rollout (product_id, channel) WHERE state IN ('RUNNING', 'PAUSED');

-- The hosts a rollout updated, and at which stage.
CREATE TABLE rollout_host (
    rollout_id uuid    NOT NULL REFERENCES rollout (id),
    host_id    text    NOT NULL,
    stage      integer NOT NULL,
    command_id uuid    NOT NULL,
    PRIMARY KEY (rollout_id, host_id)
);

-- Every decision of a rollout with its numbers; also the outbox of vigil.dispatch.rollouts.v1.
CREATE TABLE rollout_decision (
    id              uuid        PRIMARY KEY,
    rollout_id      uuid        NOT NULL REFERENCES rollout (id),
    kind            text        NOT NULL,
    stage           integer     NOT NULL,
    percent         integer     NOT NULL,
    hosts           integer     NOT NULL,
    decided_by      text        NOT NULL,
    reason          text        NOT NULL,
    health          text,
    decided_at      timestamptz NOT NULL,
    published_at    timestamptz
);
CREATE INDEX rollout_decision_rollout ON rollout_decision (rollout_id, decided_at);
CREATE INDEX rollout_decision_unpublished ON rollout_decision (decided_at) WHERE published_at IS NULL;
