-- Reads that stop scanning what they do not need: the finance report's
-- aging, returns and capped list of findings each get an index, the
-- report's one pass gets statistics that let the planner see how few its
-- groups are, and the alert notifier reads only the findings changed since
-- its last sweep.

-- Aging: the payouts waiting with a status detail (unclaimed, on hold, an
-- RFI) are few; an index over those alone finds them without reading the
-- others, and holds what the aging sums, so the table is not read at all.
CREATE INDEX payouts_status_detail ON payouts (status_detail, created_at) INCLUDE (amount_currency, amount_cents)
    WHERE status_detail IS NOT NULL;
-- The returns (the wallet's credits, failed with their return completed),
-- which the wallet series and the drift check look up by time.
CREATE INDEX payouts_returns ON payouts (return_status, created_at) WHERE return_status IS NOT NULL;
-- The report lists the oldest unresolved findings.
CREATE INDEX findings_unresolved ON findings (first_seen_at, id) WHERE resolved_at IS NULL;

-- The report groups the payouts of a range by these keys in one pass. The
-- planner cannot tell how many groups an expression makes and took the
-- day's groups for as many as the rows: it sorted a million rows on disk
-- instead of hashing a few thousand groups. Statistics on the expression
-- and the other keys (PostgreSQL 14 and later) give it the count.
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'CREATE STATISTICS payouts_report_groups (ndistinct) ON ((created_at AT TIME ZONE ''UTC'')::date),
            status, requested_speed, effective_speed, return_status, amount_currency, user_fees_currency,
            merchant_fees_currency FROM payouts';
    END IF;
END
$$;
ANALYZE payouts;

-- change_seq orders the findings' changes that alerts act on (opened,
-- acknowledged, resolved; not a run seeing a finding again) for the
-- notifier, which reads those after the mark of its last sweep
-- (models.FindingMark). It is the id of the transaction that made the
-- change, so that a reader can tell from a snapshot which changes may
-- still commit: a sequence's numbers are handed out before commit, and a
-- change committed late under a smaller number would be skipped.
ALTER TABLE findings ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE FUNCTION findings_change_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status OR NEW.resolved_at IS DISTINCT FROM OLD.resolved_at THEN
        NEW.change_seq := pg_current_xact_id()::text::bigint;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER findings_change_seq BEFORE INSERT OR UPDATE OF status, resolved_at ON findings
    FOR EACH ROW EXECUTE FUNCTION findings_change_seq();
CREATE INDEX findings_change_seq ON findings (change_seq);
-- The notifier's lists find their few rows through that index only when
-- the planner has statistics on the column; until autovacuum analyzes the
-- table it would read every open finding.
ANALYZE findings;
