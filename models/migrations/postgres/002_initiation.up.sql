-- Payout initiation: a fingerprint of the request behind an idempotency key
-- (a reused key with a different body is refused), and a lease so that one
-- process at a time drives a recorded payout to Coinflow.
ALTER TABLE payouts ADD COLUMN request_fingerprint TEXT;
ALTER TABLE payouts ADD COLUMN initiation_lease_until TIMESTAMPTZ;
