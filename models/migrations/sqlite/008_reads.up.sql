-- SQLite twin of postgres/008_reads.up.sql.
-- Reads that stop scanning what they do not need: the finance report's
-- aging, returns and capped list of findings each get an index.
-- (SQLite plans the report's one pass without statistics.)
CREATE INDEX payouts_status_detail ON payouts (status_detail, created_at) WHERE status_detail IS NOT NULL;
CREATE INDEX payouts_returns ON payouts (return_status, created_at) WHERE return_status IS NOT NULL;
CREATE INDEX findings_unresolved ON findings (first_seen_at, id) WHERE resolved_at IS NULL;
