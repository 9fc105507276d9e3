-- The stored webhooks become something an operator can see, search and
-- replay: how each was authenticated, the withdrawal and user it names
-- (so the event log filters by them through an index), when its body was
-- pruned, and who replayed it.
ALTER TABLE inbox_events ADD COLUMN auth_method TEXT;       -- signature | authorization
ALTER TABLE inbox_events ADD COLUMN auth_key TEXT;          -- current | previous (key rotation)
ALTER TABLE inbox_events ADD COLUMN subject_transaction TEXT; -- data.signature of a withdraw event
ALTER TABLE inbox_events ADD COLUMN subject_user_id TEXT;   -- data.userId, or the KYC wallet's user
ALTER TABLE inbox_events ADD COLUMN body_pruned_at TIMESTAMPTZ;
CREATE INDEX inbox_events_received ON inbox_events (received_at, id);
CREATE INDEX inbox_events_status_received ON inbox_events (status, received_at, id);
CREATE INDEX inbox_events_type_received ON inbox_events (event_type, received_at, id);
CREATE INDEX inbox_events_transaction ON inbox_events (subject_transaction, received_at, id);
CREATE INDEX inbox_events_user ON inbox_events (subject_user_id, received_at, id);
CREATE INDEX inbox_events_auth ON inbox_events (auth_method, received_at, id);

-- Every replay asked for, by whom, and what it did.
CREATE TABLE event_replays (
    id             BIGSERIAL   PRIMARY KEY,
    inbox_event_id BIGINT      NOT NULL REFERENCES inbox_events (id),
    replayed_by    TEXT        NOT NULL,
    requested_at   TIMESTAMPTZ NOT NULL,
    outcome        TEXT,
    finished_at    TIMESTAMPTZ
);
CREATE INDEX event_replays_event ON event_replays (inbox_event_id, id);
