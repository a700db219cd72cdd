-- Why an artifact is MISSING or CORRUPT, and when it was checked.
ALTER TABLE artifact ADD COLUMN status_detail text;
ALTER TABLE artifact ADD COLUMN verified_at timestamptz;
CREATE INDEX artifact_unverified ON artifact (received_at) WHERE status = 'UNVERIFIED';
