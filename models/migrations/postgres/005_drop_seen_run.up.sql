-- A reconciliation run keeps the payouts it saw at Coinflow in memory
-- instead of stamping each one: the stamp rewrote every payout row in the
-- window on every run (a million row versions and gigabytes of WAL for a
-- million payouts) to record something only that run reads.
ALTER TABLE payouts DROP COLUMN coinflow_seen_run;
