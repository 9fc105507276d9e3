// Package coinflow is a typed client for the part of Coinflow's API that
// payoutd uses: the merchant withdraw list and single get, the wallet
// balance, delegated quote and payout, withdrawers, and the withdrawer's
// side: KYC registration, saving and deleting payout destinations, and
// the session key.
//
// Every call has a timeout per attempt. Reads (and the quote, which changes
// nothing) are retried on network errors, 5xx and 429 with exponential
// backoff and jitter, honouring Retry-After. The payout POST is retried the
// same way but only ever with the identical body, so with the same
// idempotency key: Coinflow answers a replay with the original payout, never
// a second one. KYC registration and destination deletes are retried like
// reads (resending them does no harm); the add-destination POSTs, which
// have no idempotency key, only when the attempt cannot have taken effect
// (see retryUnapplied). Errors are *APIError values that match the
// sentinels in errors.go with errors.Is. The API key is sent in the
// Authorization header and appears nowhere else: not in errors, not in
// logs. No request value (identity, account number, card token, PIX key)
// appears in an error either, even when Coinflow's message echoes it.
package coinflow
