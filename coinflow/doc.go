// Package coinflow is a typed client for the part of Coinflow's API that
// payoutd uses: the merchant withdraw list and single get, the wallet
// balance, delegated quote and payout, and withdrawers.
//
// Every call has a timeout per attempt. Reads (and the quote, which changes
// nothing) are retried on network errors, 5xx and 429 with exponential
// backoff and jitter, honouring Retry-After. The payout POST is retried the
// same way but only ever with the identical body, so with the same
// idempotency key: Coinflow answers a replay with the original payout, never
// a second one. Errors are *APIError values that match the sentinels in
// errors.go with errors.Is. The API key is sent in the Authorization header
// and appears nowhere else: not in errors, not in logs.
package coinflow
