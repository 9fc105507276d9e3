package coinflow

import (
	"strings"
	"time"
)

// Observer is told about the client's traffic with Coinflow, for metrics.
// It must be safe for concurrent use and quick: it is called on the
// request path. op is a fixed name per endpoint (Operations lists them),
// never a path, which would carry user ids and tokens.
type Observer interface {
	// Response reports one attempt: its outcome class (Class2xx, Class4xx,
	// Class429, Class5xx, or ClassError for a transport error or a timeout
	// before Coinflow answered) and how long it took, from sending until
	// the answer's headers arrived (the body is read after, at the
	// caller's pace when it is streamed).
	Response(op, class string, took time.Duration)
	// Retry reports that a failed attempt is about to be sent again.
	Retry(op string)
	// RateLimitWait reports a wait before a retry that Coinflow's 429
	// asked for (its Retry-After, or the client's backoff without one).
	RateLimitWait(op string, wait time.Duration)
}

// The classes Observer.Response reports.
const (
	Class2xx   = "2xx"
	Class4xx   = "4xx" // except 429
	Class429   = "429"
	Class5xx   = "5xx"
	ClassError = "error"
)

// Classes lists the classes, for metrics that declare their series up front.
var Classes = []string{Class2xx, Class4xx, Class429, Class5xx, ClassError}

// Operations lists the operation names an Observer may be told, one per
// Coinflow endpoint the client calls.
var Operations = func() []string {
	ops := make([]string, 0, len(requestOps))
	for _, op := range requestOps {
		ops = append(ops, metricOp(op))
	}
	return ops
}()

// The operations of the endpoints whose calls are written in one place only
// (the others are named beside their calls).
const (
	opQuote           = "delegated quote"
	opWebhookActivity = "webhook activity"
	opResendWebhook   = "resend webhook"
	opListWithdrawers = "list withdrawers"
	opGetWithdrawer   = "get withdrawer"
	opListWithdraws   = "list withdraws"
	opGetWithdraw     = "get withdraw"
	opBalance         = "payout balance"
)

// requestOps are the request.op of every call the client makes: a new
// endpoint's op belongs here, or its series are not declared up front.
var requestOps = []string{
	opAddBankAccount, opAddDebitCard, opAddIBAN, opAddPIX, opDeleteDestination, opSessionKey,
	opKYC, opQuote, opPayout, opWebhookActivity, opResendWebhook,
	opListWithdrawers, opGetWithdrawer, opListWithdraws, opGetWithdraw, opBalance,
}

// metricOp is op as a label value: "list withdraws" is list_withdraws.
func metricOp(op string) string { return strings.ReplaceAll(op, " ", "_") }

// classOf names the class of an answer's status.
func classOf(status int) string {
	switch {
	case status == 429:
		return Class429
	case status >= 500:
		return Class5xx
	case status >= 400:
		return Class4xx
	case status >= 200 && status < 300:
		return Class2xx
	}
	// A status outside 200-599 (a redirect net/http could not follow): no
	// answer the client can use.
	return ClassError
}

// noObserver is the Observer of a client configured without one.
type noObserver struct{}

func (noObserver) Response(string, string, time.Duration) {}
func (noObserver) Retry(string)                           {}
func (noObserver) RateLimitWait(string, time.Duration)    {}
