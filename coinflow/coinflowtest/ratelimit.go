package coinflowtest

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// Coinflow's documented rate limits that a payout client can trip (README
// section 3): KYC calls, 3 per minute, and NotFound answers, 10 per 10
// seconds.
const (
	KYCRateLimit       = 3
	KYCRateWindow      = time.Minute
	NotFoundRateLimit  = 10
	NotFoundRateWindow = 10 * time.Second
)

// RateLimitStats counts what the documented rate limits are about, on the
// emulator clock, whether or not Options.EnforceRateLimits is on: a test
// asserts that a client never exceeded a limit with MaxKYCPerMinute <=
// KYCRateLimit and MaxNotFoundPer10s <= NotFoundRateLimit.
type RateLimitStats struct {
	// KYCCalls are POST /withdraw/kyc calls plus GET /withdraw calls
	// answered 451 (a verification check), throttled ones included.
	KYCCalls int `json:"kycCalls"`
	// NotFound are API answers with status 404, and the 429s sent instead
	// of one.
	NotFound int `json:"notFound"`
	// Throttled are the 429s sent (only with EnforceRateLimits).
	Throttled int `json:"throttled"`
	// MaxKYCPerMinute is the most KYC calls in any KYCRateWindow.
	MaxKYCPerMinute int `json:"maxKycPerMinute"`
	// MaxNotFoundPer10s is the most NotFound answers in any
	// NotFoundRateWindow.
	MaxNotFoundPer10s int `json:"maxNotFoundPer10s"`
}

// rateWindow is one sliding-window limit: a call at t counts in the window
// (t-span, t].
type rateWindow struct {
	span  time.Duration
	limit int
	calls int
	max   int
	// seen are the calls, admitted or not, in the window ending at the
	// latest; admitted are the ones let through. Both oldest first (the
	// clock moving back is tolerated, not exact).
	seen, admitted []time.Time
}

// dropBefore removes the leading times that are out of the window ending
// at now.
func dropBefore(ts []time.Time, now time.Time, span time.Duration) []time.Time {
	cut, i := now.Add(-span), 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	if i == 0 {
		return ts
	}
	return append(ts[:0], ts[i:]...)
}

// note counts a call at now. When enforce is on and the window already
// holds limit admitted calls it is refused: the answer is 429 with the
// time until the oldest of them leaves the window.
func (w *rateWindow) note(now time.Time, enforce bool) (retryAfter time.Duration, refused bool) {
	w.calls++
	w.seen = append(dropBefore(w.seen, now, w.span), now)
	w.max = max(w.max, len(w.seen))
	w.admitted = dropBefore(w.admitted, now, w.span)
	if enforce && len(w.admitted) >= w.limit {
		return w.admitted[len(w.admitted)-w.limit].Add(w.span).Sub(now), true
	}
	w.admitted = append(w.admitted, now)
	return 0, false
}

// rateLimits is the emulator's limiter state (under Emulator.mu).
type rateLimits struct {
	kyc, notFound rateWindow
	throttled     int
}

// newRateLimits are the documented limits, nothing counted yet.
func newRateLimits() rateLimits {
	return rateLimits{
		kyc:      rateWindow{span: KYCRateWindow, limit: KYCRateLimit},
		notFound: rateWindow{span: NotFoundRateWindow, limit: NotFoundRateLimit},
	}
}

// limitBefore counts a call of op before it runs and reports whether it
// must be answered 429 instead: POST /withdraw/kyc is a KYC call whatever
// its answer, and must not take effect when throttled.
func (e *Emulator) limitBefore(op string) (time.Duration, bool) {
	if op != OpKYC {
		return 0, false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.noteLocked(&e.limits.kyc)
}

// limitAfter counts an answer of op with status and reports whether a 429
// must be sent instead: any 404 counts against NotFound, and GET /withdraw
// answered 451 is a KYC call. Both answers have no effect to undo.
func (e *Emulator) limitAfter(op string, status int) (time.Duration, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case status == http.StatusNotFound:
		return e.noteLocked(&e.limits.notFound)
	case op == OpGetWithdrawer && status == http.StatusUnavailableForLegalReasons:
		return e.noteLocked(&e.limits.kyc)
	}
	return 0, false
}

// noteLocked counts a call in w at the emulator clock, enforcing the limit
// when Options.EnforceRateLimits says so, and counts a refusal.
func (e *Emulator) noteLocked(w *rateWindow) (time.Duration, bool) {
	retry, refused := w.note(e.now, e.opts.EnforceRateLimits)
	if refused {
		e.limits.throttled++
	}
	return retry, refused
}

// writeThrottled answers 429 {"msg":"Too many requests"} with Retry-After
// in whole seconds, rounded up, at least 1. [ASSUMED] Coinflow documents
// neither the status nor the header (README section 3).
func writeThrottled(w http.ResponseWriter, retryAfter time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(retryAfter.Seconds())))))
	writeMsg(w, http.StatusTooManyRequests, "Too many requests")
}

// RateLimitStats returns the rate-limit counters so far.
func (e *Emulator) RateLimitStats() RateLimitStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rateLimitStatsLocked()
}

// rateLimitStatsLocked is RateLimitStats with Emulator.mu held.
func (e *Emulator) rateLimitStatsLocked() RateLimitStats {
	l := &e.limits
	return RateLimitStats{
		KYCCalls: l.kyc.calls, NotFound: l.notFound.calls, Throttled: l.throttled,
		MaxKYCPerMinute: l.kyc.max, MaxNotFoundPer10s: l.notFound.max,
	}
}
