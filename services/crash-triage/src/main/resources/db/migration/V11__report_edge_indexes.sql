-- The top-buckets ranking counts the reports of the minutes at a window's edges from report itself. With the bucket
-- in the index, both edges are index range scans that never visit the table once it is vacuumed. Without it, at
-- 10,000,000 reports the planner read the fleet's edge by a skip scan of report_bucket, one descent per bucket
-- (115 ms), and a release's edge with one table fetch per report.
CREATE INDEX report_detected_bucket ON report (detected_at) INCLUDE (bucket_id);
DROP INDEX report_detected;
CREATE INDEX report_release_bucket ON report (product, release, detected_at) INCLUDE (bucket_id);
DROP INDEX report_release;
