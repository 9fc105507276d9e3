-- The whole flow through payoutd: withdrawers registered here and followed
-- until their verification ends, their saved destinations, and payouts in
-- a currency other than the wallet's.

-- What Coinflow said at registration and since: the verification country,
-- the payout currency Coinflow set from it, and the hosted verification
-- link while verification is pending. next_check_at and checks pace the
-- polling of a pending withdrawer (backoff per withdrawer).
ALTER TABLE withdrawers ADD COLUMN country TEXT;
ALTER TABLE withdrawers ADD COLUMN currency TEXT;
ALTER TABLE withdrawers ADD COLUMN verification_link TEXT;
ALTER TABLE withdrawers ADD COLUMN next_check_at TIMESTAMPTZ;
ALTER TABLE withdrawers ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
CREATE INDEX withdrawers_verification ON withdrawers (verification_status, next_check_at);

-- A saved destination, kept as Coinflow's token, its kind, currency, last
-- four digits and the speeds Coinflow says it takes; never the account
-- number, card token or PIX key. A deletion keeps the row (payouts point
-- at the token) with deleted_at set. Coinflow scopes a token to its
-- withdrawer (every destination call names the user), and so does payoutd.
CREATE TABLE destinations (
    user_id    TEXT        NOT NULL REFERENCES withdrawers (user_id),
    token      TEXT        NOT NULL,
    kind       TEXT        NOT NULL,
    currency   TEXT        NOT NULL,
    last4      TEXT        NOT NULL,
    speeds     TEXT        NOT NULL,
    deleted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, token)
);

-- The wallet is in USD: what a payout costs it (amount in USD plus the
-- merchant's fees), and the rate Coinflow priced a foreign amount at
-- (usdToForeignExchangeRate, as Coinflow wrote it). NULL until known.
ALTER TABLE payouts ADD COLUMN wallet_debit_cents BIGINT;
ALTER TABLE payouts ADD COLUMN exchange_rate TEXT;
