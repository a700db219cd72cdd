-- One VM row per resolution bucket (one minute by default): counters are cumulative, so the first sample of each
-- bucket gives exact per-bucket rates. Rows from before keep their own time as their bucket.
ALTER TABLE vm_sample ADD COLUMN bucket timestamptz;
UPDATE vm_sample SET bucket = sampled_at;
ALTER TABLE vm_sample ALTER COLUMN bucket SET NOT NULL;
ALTER TABLE vm_sample DROP CONSTRAINT vm_sample_pkey;
ALTER TABLE vm_sample ADD PRIMARY KEY (vm_uuid, bucket);
