-- A finding can be snoozed until a time, with a note and who snoozed it:
-- until then it is left out of the open list, the overview's counts and
-- the alert reminders; after it, it is open again if its condition still
-- holds. Whether a finding is snoozed is decided at read time against the
-- clock (snoozed_until > now), so nothing has to run when a snooze ends.
ALTER TABLE findings ADD COLUMN snoozed_until TIMESTAMPTZ;
ALTER TABLE findings ADD COLUMN snooze_note TEXT;
ALTER TABLE findings ADD COLUMN snoozed_by TEXT;
ALTER TABLE findings ADD COLUMN snoozed_at TIMESTAMPTZ;
-- The "snoozed" list reads the few unresolved findings with a snooze.
CREATE INDEX findings_snoozed ON findings (snoozed_until) WHERE resolved_at IS NULL AND snoozed_until IS NOT NULL;
