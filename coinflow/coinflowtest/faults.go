package coinflowtest

import (
	"math/rand/v2"
	"sync"
	"time"
)

// APIFault makes API calls misbehave.
type APIFault struct {
	// Operation is the operation it applies to (OpPayout, ...); "" = all.
	Operation string `json:"operation,omitempty"`
	// Status answers with this status and a {"msg"} body instead of running
	// the operation (503, 429, 500, ...). 0 runs the operation.
	Status int `json:"status,omitempty"`
	// RetryAfter sets the Retry-After header, in whole seconds rounded up.
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Hang delays the answer. With Status 0 the operation takes effect
	// first and only its answer is late: a client that times out does not
	// know whether, say, its payout was made. Ends early when the client
	// goes away.
	Hang time.Duration `json:"hang,omitempty"`
	// TruncateBody runs the operation and sends only the first half of its
	// body, declaring the full Content-Length, so the connection ends
	// mid-body.
	TruncateBody bool `json:"truncateBody,omitempty"`
	// Times is how many calls it applies to; 0 = until cleared.
	Times int `json:"times,omitempty"`
	// After skips this many matching calls first.
	After int `json:"after,omitempty"`
}

// WebhookFaults make webhook delivery misbehave. Drop, duplicate and
// reorder apply to events emitted while they are set; Delay to first
// attempts made while it is set.
type WebhookFaults struct {
	// DropNext loses the next n events: never sent, not in the webhook log
	// (Deliveries shows them Dropped).
	DropNext int `json:"dropNext,omitempty"`
	// FailNext makes the next n events undeliverable for good (after any
	// DropNext): each attempt of their delivery is logged in the webhook
	// activity as unanswered (responseCode 0, as a timeout at the receiver
	// is; nothing is sent), and Coinflow gives up after FailAttempts
	// attempts instead of retrying for GiveUpAfter, so that a test sees
	// Coinflow's 36 hours of retries exhausted at once. A resend of such an
	// event is a new delivery and is sent as usual.
	FailNext int `json:"failNext,omitempty"`
	// FailAttempts is how many attempts a FailNext delivery gets (default 3).
	FailAttempts int `json:"failAttempts,omitempty"`
	// DropRate loses each event with this probability (dice seeded by Seed).
	DropRate float64 `json:"dropRate,omitempty"`
	// Duplicate delivers each event twice: two deliveries, each retried
	// until 200 and logged.
	Duplicate bool `json:"duplicate,omitempty"`
	// Delay waits this long (real time) before each first attempt; the
	// queue behind it waits too.
	Delay time.Duration `json:"delay,omitempty"`
	// Reorder holds events until a flush (FlushWebhooks, WaitWebhooks, or
	// clearing Reorder), then sends that batch newest first.
	Reorder bool `json:"reorder,omitempty"`
	// Seed seeds the DropRate dice; 0 keeps the emulator's.
	Seed int64 `json:"seed,omitempty"`
}

type apiFaultState struct {
	APIFault
	seen, applied int
}

type faultSet struct {
	mu  sync.Mutex
	api []*apiFaultState
}

// match counts a call of op against every fault for op and returns the
// first that applies to it, if any.
func (f *faultSet) match(op string) (APIFault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var hit *apiFaultState
	for _, s := range f.api {
		if s.Operation != "" && s.Operation != op {
			continue
		}
		s.seen++
		if hit != nil || s.seen <= s.After || (s.Times > 0 && s.applied >= s.Times) {
			continue
		}
		s.applied++
		hit = s
	}
	if hit == nil {
		return APIFault{}, false
	}
	return hit.APIFault, true
}

// SetAPIFaults adds faults after those already in force: they stack, each
// counting its own Times and After, and a call gets the first one that
// applies to it. ClearAPIFaults removes them all.
func (e *Emulator) SetAPIFaults(faults ...APIFault) {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	for _, f := range faults {
		e.faults.api = append(e.faults.api, &apiFaultState{APIFault: f})
	}
}

// ClearAPIFaults removes every API fault.
func (e *Emulator) ClearAPIFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.api = nil
}

// SetWebhookFaults replaces the webhook faults. Turning Reorder off
// releases the held events.
func (e *Emulator) SetWebhookFaults(f WebhookFaults) {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = f
	if f.Seed != 0 {
		h.dice = rand.New(rand.NewPCG(uint64(f.Seed), uint64(f.Seed)^0x9e3779b97f4a7c15))
	}
	if !f.Reorder {
		h.flushLocked()
	}
}

// ClearWebhookFaults removes every webhook fault.
func (e *Emulator) ClearWebhookFaults() { e.SetWebhookFaults(WebhookFaults{}) }
