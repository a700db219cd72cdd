-- A report filed on the hypervisor's event alone, before its evidence is in: counted at once in the bucket of what
-- the hypervisor knows, and moved to the bucket of its evidence when ingestion's report with the evidence follows.
ALTER TABLE report ADD COLUMN provisional boolean NOT NULL DEFAULT false;
