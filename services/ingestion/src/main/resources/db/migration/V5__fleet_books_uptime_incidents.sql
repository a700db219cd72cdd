-- Fleet books: the product and release each VM runs (from its master image's metadata), and whether it is
-- running now, up to when its running time has been counted into the uptime ledger.
ALTER TABLE vm ADD COLUMN product text;
ALTER TABLE vm ADD COLUMN release text;
ALTER TABLE vm ADD COLUMN running boolean NOT NULL DEFAULT false;
ALTER TABLE vm ADD COLUMN counted_until timestamptz;
CREATE INDEX vm_host_running ON vm (host_id) WHERE running;

-- The denominator of crash rates: seconds VMs ran, per UTC day, tenant, product and release ('' = undeclared).
CREATE TABLE uptime_ledger (
    day         date   NOT NULL,
    tenant      text   NOT NULL,
    product     text   NOT NULL,
    release     text   NOT NULL,
    vm_seconds  double precision NOT NULL,
    PRIMARY KEY (day, tenant, product, release)
);

-- One row per crash, hang, watchdog or paused-on-I/O-error incident. The row may be opened by the trigger event
-- or, when artifacts overtake it, by the first artifact (trigger still null). reported_at is set in the same
-- transaction that saw the broker acknowledge the crash report: at most one report is ever decided.
CREATE TABLE incident (
    incident_id       text        PRIMARY KEY,
    tenant            text        NOT NULL,
    host_id           text        NOT NULL,
    vm_uuid           text        NOT NULL,
    vm_name           text,
    product           text,
    release           text,
    trigger           text,
    trigger_record    bytea,
    panic_record      bytea,
    detected_at       timestamptz,
    capture_plan      text[],
    opened_at         timestamptz NOT NULL,
    deadline          timestamptz NOT NULL,
    reported_at       timestamptz,
    report_event_id   text,
    complete          boolean,
    missing           text[]
);
CREATE INDEX incident_open ON incident (deadline) WHERE reported_at IS NULL;
CREATE INDEX incident_vm ON incident (vm_uuid, opened_at);

-- Every trigger event and the incident it belongs to: a panic and the crash that follows it are one incident.
CREATE TABLE incident_trigger (
    event_id     text PRIMARY KEY,
    incident_id  text NOT NULL REFERENCES incident (incident_id)
);
