-- SQLite twin of postgres/001_init.up.sql: same tables, columns and indexes.
-- Times are stored as text in one UTC format, so they compare in order.
-- Webhook inbox: every authentic delivery, raw, once per dedup key.
CREATE TABLE inbox_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key       TEXT        NOT NULL,
    event_type      TEXT        NOT NULL,
    body            BLOB        NOT NULL,
    received_at     DATETIME    NOT NULL,
    status          TEXT        NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at DATETIME    NOT NULL,
    last_error      TEXT,
    processed_at    DATETIME
);
CREATE UNIQUE INDEX inbox_events_dedup_key ON inbox_events (dedup_key);
-- The applier claims pending events in id order; this index holds only
-- them, so a claim costs the backlog, not the history.
CREATE INDEX inbox_events_pending ON inbox_events (id) WHERE status = 'pending';

CREATE TABLE payouts (
    id                     TEXT        PRIMARY KEY,
    idempotency_key        TEXT,
    user_id                TEXT        NOT NULL,
    amount_cents           BIGINT      NOT NULL,
    amount_currency        TEXT        NOT NULL,
    requested_speed        TEXT,
    effective_speed        TEXT,
    status                 TEXT        NOT NULL,
    status_detail          TEXT,
    status_at              DATETIME    NOT NULL,
    return_status          TEXT,
    coinflow_transaction   TEXT,
    coinflow_transfer_id   TEXT,
    account_token          TEXT,
    user_fees_cents        BIGINT      NOT NULL DEFAULT 0,
    user_fees_currency     TEXT        NOT NULL DEFAULT '',
    merchant_fees_cents    BIGINT      NOT NULL DEFAULT 0,
    merchant_fees_currency TEXT        NOT NULL DEFAULT '',
    expected_delivery_at   DATETIME,
    source                 TEXT        NOT NULL,
    created_at             DATETIME    NOT NULL,
    updated_at             DATETIME    NOT NULL,
    CHECK (amount_cents >= 0)
);
CREATE UNIQUE INDEX payouts_idempotency_key ON payouts (idempotency_key);
CREATE UNIQUE INDEX payouts_coinflow_transaction ON payouts (coinflow_transaction);
CREATE INDEX payouts_created ON payouts (created_at DESC, id DESC);
CREATE INDEX payouts_user ON payouts (user_id, created_at DESC);
CREATE INDEX payouts_status ON payouts (status, created_at DESC);

CREATE TABLE payout_history (
    id             INTEGER     PRIMARY KEY AUTOINCREMENT,
    payout_id      TEXT        NOT NULL REFERENCES payouts (id),
    from_status    TEXT,
    to_status      TEXT        NOT NULL,
    from_detail    TEXT,
    to_detail      TEXT,
    applied        BOOLEAN     NOT NULL,
    reason         TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    inbox_event_id BIGINT      REFERENCES inbox_events (id),
    evidence_at    DATETIME    NOT NULL,
    created_at     DATETIME    NOT NULL
);
CREATE INDEX payout_history_payout ON payout_history (payout_id, id);
-- One webhook event is applied to one payout exactly once.
CREATE UNIQUE INDEX payout_history_inbox_event ON payout_history (inbox_event_id);

CREATE TABLE withdrawers (
    user_id             TEXT        PRIMARY KEY,
    wallet              TEXT        NOT NULL,
    blockchain          TEXT        NOT NULL,
    email_masked        TEXT        NOT NULL,
    verification_status TEXT        NOT NULL,
    verification_at     DATETIME    NOT NULL,
    blocked             BOOLEAN     NOT NULL DEFAULT FALSE,
    last_synced_at      DATETIME,
    created_at          DATETIME    NOT NULL,
    updated_at          DATETIME    NOT NULL
);

CREATE TABLE withdrawer_history (
    id             INTEGER     PRIMARY KEY AUTOINCREMENT,
    user_id        TEXT        NOT NULL REFERENCES withdrawers (user_id),
    from_status    TEXT,
    to_status      TEXT        NOT NULL,
    applied        BOOLEAN     NOT NULL,
    reason         TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    inbox_event_id BIGINT      REFERENCES inbox_events (id),
    evidence_at    DATETIME    NOT NULL,
    created_at     DATETIME    NOT NULL
);
CREATE INDEX withdrawer_history_user ON withdrawer_history (user_id, id);
CREATE UNIQUE INDEX withdrawer_history_inbox_event ON withdrawer_history (inbox_event_id);

CREATE TABLE findings (
    id              TEXT        PRIMARY KEY,
    kind            TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    severity        TEXT        NOT NULL,
    status          TEXT        NOT NULL,
    payout_id       TEXT,
    user_id         TEXT,
    details         TEXT        NOT NULL,
    first_seen_at   DATETIME    NOT NULL,
    last_seen_at    DATETIME    NOT NULL,
    resolved_at     DATETIME,
    acknowledged_at DATETIME,
    acknowledged_by TEXT,
    ack_note        TEXT
);
-- One unresolved finding per kind and subject.
CREATE UNIQUE INDEX findings_open_identity ON findings (kind, subject) WHERE resolved_at IS NULL;
CREATE INDEX findings_first_seen ON findings (first_seen_at DESC, id DESC);
CREATE INDEX findings_payout ON findings (payout_id);
