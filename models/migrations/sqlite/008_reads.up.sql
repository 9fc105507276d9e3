-- SQLite twin of postgres/008_reads.up.sql.
-- Reads that stop scanning what they do not need: the finance report's
-- aging, returns and capped list of findings each get an index, and the
-- alert notifier reads only the findings changed since its last sweep.
-- (SQLite plans the report's one pass without statistics.)
CREATE INDEX payouts_status_detail ON payouts (status_detail, created_at, amount_currency, amount_cents)
    WHERE status_detail IS NOT NULL;
CREATE INDEX payouts_returns ON payouts (return_status, created_at) WHERE return_status IS NOT NULL;
CREATE INDEX findings_unresolved ON findings (first_seen_at, id) WHERE resolved_at IS NULL;

-- change_seq orders the findings' changes that alerts act on (opened,
-- acknowledged, resolved; not a run seeing a finding again). SQLite has one
-- writer at a time, so a counter bumped inside the writing transaction
-- numbers the changes in commit order. The counter is a row of its own,
-- not MAX(change_seq): a number must never be handed out twice.
ALTER TABLE findings ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE finding_change_clock (seq INTEGER NOT NULL);
INSERT INTO finding_change_clock (seq) VALUES (0);
CREATE TRIGGER findings_change_seq_insert AFTER INSERT ON findings
BEGIN
    UPDATE finding_change_clock SET seq = seq + 1;
    UPDATE findings SET change_seq = (SELECT seq FROM finding_change_clock) WHERE id = NEW.id;
END;
CREATE TRIGGER findings_change_seq_update AFTER UPDATE OF status, resolved_at ON findings
WHEN NEW.status IS NOT OLD.status OR NEW.resolved_at IS NOT OLD.resolved_at
BEGIN
    UPDATE finding_change_clock SET seq = seq + 1;
    UPDATE findings SET change_seq = (SELECT seq FROM finding_change_clock) WHERE id = NEW.id;
END;
CREATE INDEX findings_change_seq ON findings (change_seq);
