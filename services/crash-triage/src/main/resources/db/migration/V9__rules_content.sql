-- What a rules version was, by content: SHA-256 of the rules JSON (keys sorted) that re-keyed the stored reports.
-- A file that says the same version with other content is refused, so an edit without a new version cannot sign
-- reports to keys no bucket has. Rows applied before this column existed adopt the first content seen.
ALTER TABLE rules_applied ADD COLUMN rules_sha256 text;
