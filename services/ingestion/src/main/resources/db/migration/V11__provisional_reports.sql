-- When an incident's provisional crash report (the hypervisor's event alone, before any evidence) was published, so
-- that it is published once; null while it has not been, and for incidents whose evidence was complete at once.
ALTER TABLE incident ADD COLUMN provisional_at timestamptz;
