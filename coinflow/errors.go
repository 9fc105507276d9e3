package coinflow

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sentinels that callers branch on; *APIError matches them with errors.Is.
var (
	ErrInsufficientFunds    = errors.New("insufficient funds in the Coinflow wallet")      // 402
	ErrVerificationRequired = errors.New("withdrawer must complete verification")          // 451
	ErrNotFound             = errors.New("not found at Coinflow")                          // 404
	ErrRateLimited          = errors.New("rate limited by Coinflow")                       // 429
	ErrUnavailable          = errors.New("coinflow unavailable")                           // 5xx, network, timeout
	ErrUnauthorized         = errors.New("coinflow refused the API key")                   // 401, 403 off the payout endpoint
	ErrBlocked              = errors.New("withdrawer is blocked at Coinflow")              // 403 on the payout endpoint
	ErrRejected             = errors.New("coinflow rejected the request")                  // other 4xx
	ErrMalformedResponse    = errors.New("coinflow answered with a body that is not JSON") // undecodable 2xx
	ErrNoAPIKey             = errors.New("coinflow.api_key is not configured")

	// Statuses that mean something on one operation only (README §5.10,
	// §5.11); on any other operation they are ErrRejected.
	ErrAlreadyRegistered = errors.New("withdrawer is already registered at Coinflow") // 409 on POST /withdraw/kyc
	ErrAddressRequired   = errors.New("coinflow needs the card holder's address")     // 412 on POST /withdraw/debit-card
	ErrBICRequired       = errors.New("coinflow needs the BIC of the IBAN's bank")    // 426 on POST /withdraw/iban
)

// APIError is a failed call: StatusCode is 0 when no HTTP answer arrived
// (network error, timeout) and the cause is in Err.
type APIError struct {
	Op         string // the operation, e.g. "list withdraws"
	StatusCode int
	Message    string // Coinflow's msg/message text
	// VerificationLink is set on 451: where the user completes verification.
	VerificationLink string
	// VerificationStatus is set on a withdrawer 451 when Coinflow says it.
	VerificationStatus string
	// RetryAfter is the server's Retry-After on 429/503, when given.
	RetryAfter time.Duration
	Attempts   int
	Err        error
}

func (e *APIError) Error() string {
	switch {
	case e.StatusCode == 0 && e.Err != nil:
		return fmt.Sprintf("coinflow %s: %v (after %d attempts)", e.Op, e.Err, e.Attempts)
	case e.Err != nil:
		return fmt.Sprintf("coinflow %s: %d %s: %v", e.Op, e.StatusCode, http.StatusText(e.StatusCode), e.Err)
	case e.Message != "":
		return fmt.Sprintf("coinflow %s: %d %s: %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode), e.Message)
	}
	return fmt.Sprintf("coinflow %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
}

func (e *APIError) Unwrap() error { return e.Err }

// Is maps the status to the sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInsufficientFunds:
		return e.StatusCode == http.StatusPaymentRequired
	case ErrVerificationRequired:
		return e.StatusCode == http.StatusUnavailableForLegalReasons
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnavailable:
		return e.StatusCode == 0 || e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || (e.StatusCode == http.StatusForbidden && !e.blocked())
	case ErrBlocked:
		return e.blocked()
	case ErrAlreadyRegistered, ErrAddressRequired, ErrBICRequired:
		return e.opStatus() == target
	case ErrRejected:
		return e.StatusCode >= 400 && e.StatusCode < 500 && !e.Retryable() && e.opStatus() == nil &&
			e.StatusCode != http.StatusPaymentRequired && e.StatusCode != http.StatusUnavailableForLegalReasons &&
			e.StatusCode != http.StatusNotFound && e.StatusCode != http.StatusUnauthorized && e.StatusCode != http.StatusForbidden
	}
	return false
}

// opStatus is the sentinel of a status that has a meaning of its own on
// e's operation, or nil.
func (e *APIError) opStatus() error {
	switch {
	case e.StatusCode == http.StatusConflict && e.Op == opKYC:
		return ErrAlreadyRegistered
	case e.StatusCode == http.StatusPreconditionFailed && e.Op == opAddDebitCard:
		return ErrAddressRequired
	case e.StatusCode == http.StatusUpgradeRequired && e.Op == opAddIBAN:
		return ErrBICRequired
	}
	return nil
}

// blocked: on the payout endpoint a 403 is the withdrawer's availability
// ("User is blocked" on Coinflow's payout error page), not the API key.
func (e *APIError) blocked() bool {
	return e.StatusCode == http.StatusForbidden && e.Op == opPayout
}

// Retryable reports whether the same request may succeed later: no answer,
// 429, or a 5xx.
func (e *APIError) Retryable() bool {
	return e.StatusCode == 0 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// OutcomeUnknown reports whether a state-changing call may or may not have
// taken effect: the request may have reached Coinflow but no answer came
// back, or the answer was a 5xx.
func (e *APIError) OutcomeUnknown() bool {
	return e.StatusCode == 0 || e.StatusCode >= 500 || errors.Is(e.Err, ErrMalformedResponse)
}
