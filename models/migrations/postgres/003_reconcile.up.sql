-- Reconciliation: runs, wallet snapshots, job leases for the scheduler, and
-- the marks a run leaves on payouts and findings.
CREATE TABLE reconcile_runs (
    id           TEXT        PRIMARY KEY,
    trigger      TEXT        NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    outcome      TEXT        NOT NULL,
    window_since TIMESTAMPTZ,
    counts       TEXT        NOT NULL,
    problems     TEXT        NOT NULL
);
CREATE INDEX reconcile_runs_started ON reconcile_runs (started_at DESC, id DESC);

CREATE TABLE wallet_snapshots (
    id            BIGSERIAL   PRIMARY KEY,
    run_id        TEXT        NOT NULL,
    taken_at      TIMESTAMPTZ NOT NULL,
    balance_cents BIGINT      NOT NULL
);
CREATE INDEX wallet_snapshots_taken ON wallet_snapshots (taken_at, id);

-- One process at a time runs a scheduled job's tick.
CREATE TABLE job_leases (
    job         TEXT        PRIMARY KEY,
    holder      TEXT,
    claimed_at  TIMESTAMPTZ NOT NULL,
    lease_until TIMESTAMPTZ
);

-- The last run that saw the payout at Coinflow, and when its return completed.
ALTER TABLE payouts ADD COLUMN coinflow_seen_run TEXT;
ALTER TABLE payouts ADD COLUMN returned_at TIMESTAMPTZ;
CREATE INDEX payouts_open_status ON payouts (status) WHERE status IN ('requested', 'unknown', 'pending', 'in_review');

ALTER TABLE findings ADD COLUMN first_run_id TEXT;
ALTER TABLE findings ADD COLUMN last_run_id TEXT;
ALTER TABLE findings ADD COLUMN resolved_run_id TEXT;
CREATE INDEX findings_open_kind ON findings (kind, last_run_id) WHERE resolved_at IS NULL;
