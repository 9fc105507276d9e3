-- SQLite twin of postgres/005_drop_seen_run.up.sql.
-- A reconciliation run keeps the payouts it saw at Coinflow in memory
-- instead of stamping each one: the stamp rewrote every payout row in the
-- window on every run to record something only that run reads.
ALTER TABLE payouts DROP COLUMN coinflow_seen_run;
