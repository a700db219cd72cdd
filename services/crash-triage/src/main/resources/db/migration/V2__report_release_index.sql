-- Top buckets of one product and release: reports in a window without scanning the fleet's.
CREATE INDEX report_release ON report (product, release, detected_at);
