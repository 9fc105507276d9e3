-- One decision for all evidence: every change finance can see writes a
-- history row, including changes of fields beside the status (fees, speed,
-- a return, a discovered payout's amount, a withdrawer blocked). changes
-- holds them as JSON {"column": [old, new]}; NULL on rows that only move
-- the status.
ALTER TABLE payout_history ADD COLUMN changes TEXT;
ALTER TABLE withdrawer_history ADD COLUMN changes TEXT;

-- A redelivery of a stored event whose content differs in what matters
-- (amount, fees, user, idempotency key) is kept as a row of its own:
-- content_hash names what the event said, and conflicts_with points at the
-- copy stored first, so the applier raises a finding for the pair.
ALTER TABLE inbox_events ADD COLUMN content_hash TEXT;
ALTER TABLE inbox_events ADD COLUMN conflicts_with BIGINT REFERENCES inbox_events (id);
