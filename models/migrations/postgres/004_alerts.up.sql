-- Alerts: an outbox of notifications to deliver (one row per alert and
-- sink, delivered at least once, retried with backoff), and the record of
-- which unresolved findings were announced and when, so that a finding is
-- announced once and re-announced only after the re-notify interval.
CREATE TABLE alert_outbox (
    id              BIGSERIAL   PRIMARY KEY,
    dedup_key       TEXT        NOT NULL,
    sink            TEXT        NOT NULL,
    kind            TEXT        NOT NULL, -- opened, resolved, summary
    finding_id      TEXT,                 -- NULL for a summary
    payload         TEXT        NOT NULL, -- the alert as JSON, without any secret
    status          TEXT        NOT NULL, -- pending, delivered, failed
    attempts        INTEGER     NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    last_error      TEXT
);
CREATE UNIQUE INDEX alert_outbox_dedup_key ON alert_outbox (dedup_key);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX alert_outbox_finding ON alert_outbox (finding_id);

-- One row per unresolved finding that has been announced; deleted when its
-- resolution is handled, so the table stays as small as the open findings.
CREATE TABLE alert_notices (
    finding_id        TEXT        PRIMARY KEY,
    first_notified_at TIMESTAMPTZ NOT NULL,
    last_notified_at  TIMESTAMPTZ NOT NULL,
    notifications     INTEGER     NOT NULL
);
CREATE INDEX alert_notices_last ON alert_notices (last_notified_at);
