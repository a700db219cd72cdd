-- A host the vendor revoked: its token opens nothing, it cannot enrol again, and the revocation is published (the
-- row is its own outbox) to the compacted topic ingestion holds as its revocation list.
ALTER TABLE host ADD COLUMN revoked_at             timestamptz;
ALTER TABLE host ADD COLUMN revoked_by             text;
ALTER TABLE host ADD COLUMN revocation_reason      text;
ALTER TABLE host ADD COLUMN revocation_tenant      text;
ALTER TABLE host ADD COLUMN revocation_published_at timestamptz;
CREATE INDEX host_revocation_unpublished ON host (revoked_at)
    WHERE revoked_at IS NOT NULL AND revocation_published_at IS NULL;
