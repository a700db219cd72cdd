-- The time indexes of the sample tables serve only the retention delete (sampled_at < now - retention). Rows
-- arrive in roughly time order, so a BRIN index (a few pages per gigabyte, no per-row maintenance) finds the old
-- block ranges as well as a B-tree did, and every inserted row now updates two B-trees instead of three or four.
DROP INDEX sample_batch_time;
CREATE INDEX sample_batch_time ON sample_batch USING brin (sampled_at);
DROP INDEX vm_sample_time;
CREATE INDEX vm_sample_time ON vm_sample USING brin (sampled_at);
