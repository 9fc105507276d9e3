-- SQLite twin of postgres/002_initiation.up.sql.
ALTER TABLE payouts ADD COLUMN request_fingerprint TEXT;
ALTER TABLE payouts ADD COLUMN initiation_lease_until DATETIME;
