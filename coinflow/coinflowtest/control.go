package coinflowtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// controlRoutes registers the control surface under /_sim/ (for payoutd
// sim): JSON in and out, Authorization = the API key, never faulted or
// counted.
func (e *Emulator) controlRoutes() {
	c := func(pattern string, h http.HandlerFunc) {
		e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if !e.keyOK(r) {
				writeMsg(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
			h(w, r)
		})
	}
	c("GET /_sim/state", e.simState)
	c("POST /_sim/advance", simApply(func(q *advanceRequest) { e.Advance(time.Duration(q.Duration)) }, e.simState))
	c("POST /_sim/now", simApply(func(q *nowRequest) { e.SetNow(q.Time) }, e.simState))
	c("POST /_sim/balance", simApply(func(q *balanceRequest) { e.SetBalance(*q.Cents) }, e.simState))
	c("GET /_sim/withdrawers", simGet(e.Withdrawers))
	c("POST /_sim/withdrawers", simCreate(e.AddWithdrawer))
	c("POST /_sim/withdrawers/{userId}/verification", simChangeWithdrawer(e, func(userID string, q *verificationRequest) error {
		return e.SetVerification(userID, q.Status)
	}))
	c("POST /_sim/withdrawers/{userId}/blocked", simChangeWithdrawer(e, func(userID string, q *blockedRequest) error {
		return e.SetBlocked(userID, q.Blocked)
	}))
	c("GET /_sim/withdraws", simGet(e.Withdraws))
	c("POST /_sim/withdraws", simCreate(e.CreateWithdraw))
	c("POST /_sim/withdraws/{txn}/{action}", e.simWithdrawAction)
	c("POST /_sim/downgrade", simApply(func(q *downgradeRequest) { e.SetDowngrade(q.From, q.To) }, writeOK))
	// POST /_sim/synthetic {"n": N}: N default-generated withdraws (see
	// SeedSynthetic).
	c("POST /_sim/synthetic", simApply(func(q *syntheticRequest) { e.SeedSynthetic(q.N, nil) }, e.simState))
	c("POST /_sim/faults/api", simApply(func(q *apiFaultRequest) { e.SetAPIFaults(q.fault()) }, writeOK))
	c("DELETE /_sim/faults/api", simDo(e.ClearAPIFaults))
	c("POST /_sim/faults/webhooks", simApply(func(q *webhookFaultsRequest) { e.SetWebhookFaults(q.faults()) }, writeOK))
	c("DELETE /_sim/faults/webhooks", simDo(e.ClearWebhookFaults))
	c("POST /_sim/webhooks/flush", simDo(e.FlushWebhooks))
	c("POST /_sim/webhooks/url", simApply(func(q *webhookURLRequest) { e.SetWebhookURL(q.URL) }, writeOK))
	c("GET /_sim/deliveries", simGet(e.Deliveries))
}

// The control endpoints come in a few shapes, each made by one of these.

// simGet answers what get returns.
func simGet[T any](get func() T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, get())
	}
}

// simDo runs do and answers {"ok":true}.
func simDo(do func()) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		do()
		writeOK(w, r)
	}
}

// simApply decodes and checks a body into a T, applies it and answers
// with reply.
func simApply[T any](apply func(req *T), reply http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req T
		if !decodeBody(w, r, &req) {
			return
		}
		apply(&req)
		reply(w, r)
	}
}

// simCreate decodes a spec, creates from it and answers 201 with the
// result.
func simCreate[S, T any](create func(spec S) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var spec S
		if !decodeBody(w, r, &spec) {
			return
		}
		v, err := create(spec)
		if err != nil {
			writeControlError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, v)
	}
}

// simChangeWithdrawer serves POST /_sim/withdrawers/{userId}/...: it
// decodes a T, has change apply it to that withdrawer and answers the
// withdrawer as it is then.
func simChangeWithdrawer[T any](e *Emulator, change func(userID string, req *T) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req T
		if !decodeBody(w, r, &req) {
			return
		}
		userID := r.PathValue("userId")
		if err := change(userID, &req); err != nil {
			writeControlError(w, err)
			return
		}
		wd, _ := e.Withdrawer(userID)
		writeJSON(w, http.StatusOK, wd)
	}
}

func writeOK(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, okJSON{OK: true})
}

type okJSON struct {
	OK bool `json:"ok"`
}

// writeControlError maps a control method's error to a status.
func writeControlError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrExists), errors.Is(err, ErrInvalidTransition):
		status = http.StatusConflict
	case errors.Is(err, ErrInvalid):
		status = http.StatusBadRequest
	case errors.Is(err, ErrInsufficientFunds):
		status = http.StatusPaymentRequired
	}
	writeMsg(w, status, err.Error())
}

// jsonDuration reads "1h30m" or integer nanoseconds (how encoding/json
// writes a time.Duration).
type jsonDuration time.Duration

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		*d = jsonDuration(v)
		return err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	*d = jsonDuration(n)
	return err
}

type stateJSON struct {
	Now            string         `json:"now"`
	BalanceCents   int64          `json:"balanceCents"`
	Withdraws      int            `json:"withdraws"`
	Synthetic      int            `json:"synthetic"`
	PayoutsCreated int            `json:"payoutsCreated"`
	Withdrawers    int            `json:"withdrawers"`
	ByStatus       map[string]int `json:"byStatus"`
	Calls          map[string]int `json:"calls"`
	Webhooks       webhookSummary `json:"webhooks"`
	RateLimits     RateLimitStats `json:"rateLimits"`
}

type webhookSummary struct {
	Events    int `json:"deliveries"`
	Pending   int `json:"pending"`
	Held      int `json:"held"`
	InFlight  int `json:"inFlight"`
	Delivered int `json:"delivered"`
	GaveUp    int `json:"gaveUp"`
	Dropped   int `json:"dropped"`
	NoURL     int `json:"noUrl"`
	Attempts  int `json:"attempts"`
}

func (e *Emulator) simState(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	s := stateJSON{
		Now: isoMillis(e.now), BalanceCents: e.balance, Withdraws: len(e.sorted),
		Synthetic: e.synthetic.n, PayoutsCreated: e.payoutsCreated, Withdrawers: len(e.withdrawers),
		ByStatus: map[string]int{}, Calls: map[string]int{}, RateLimits: e.rateLimitStatsLocked(),
	}
	for _, wr := range e.sorted {
		s.ByStatus[wr.Status]++
	}
	for k, v := range e.calls {
		s.Calls[k] = v
	}
	e.mu.Unlock()
	h := e.hooks
	h.mu.Lock()
	ws := &s.Webhooks
	ws.Events, ws.Pending, ws.Held, ws.InFlight, ws.Attempts = len(h.all), len(h.pending), len(h.held), h.inflight, len(h.log)
	for _, d := range h.all {
		switch {
		case d.Delivered:
			ws.Delivered++
		case d.GaveUp:
			ws.GaveUp++
		case d.Dropped:
			ws.Dropped++
		case d.NoURL:
			ws.NoURL++
		}
	}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, s)
}

type advanceRequest struct {
	Duration jsonDuration `json:"duration"`
}

func (q *advanceRequest) check() string {
	if q.Duration < 0 {
		return "duration must not be negative"
	}
	return ""
}

type nowRequest struct {
	Time time.Time `json:"time"`
}

type balanceRequest struct {
	Cents *int64 `json:"cents"`
}

func (q *balanceRequest) check() string {
	if q.Cents == nil {
		return "cents is required"
	}
	return ""
}

type verificationRequest struct {
	Status string `json:"status"`
}

type blockedRequest struct {
	Blocked bool `json:"blocked"`
}

// simWithdrawAction is POST /_sim/withdraws/{txn}/{action}; fail takes an
// optional {"detailMessage"}.
func (e *Emulator) simWithdrawAction(w http.ResponseWriter, r *http.Request) {
	txn := r.PathValue("txn")
	var err error
	switch r.PathValue("action") {
	case "complete":
		err = e.Complete(txn)
	case "fail":
		var req struct {
			DetailMessage string `json:"detailMessage"`
		}
		if r.ContentLength != 0 && !decodeBody(w, r, &req) {
			return
		}
		err = e.Fail(txn, req.DetailMessage)
	case "fail-after-success":
		err = e.FailAfterSuccess(txn)
	case "return-complete":
		err = e.ReturnComplete(txn)
	case "stuck":
		err = e.Stuck(txn)
	case "in-review":
		err = e.SetInReview(txn)
	case "unclaimed":
		err = e.MarkUnclaimed(txn)
	case "on-hold":
		err = e.MarkOnHold(txn)
	default:
		writeMsg(w, http.StatusNotFound, "unknown action (complete, fail, fail-after-success, return-complete, stuck, in-review, unclaimed, on-hold)")
		return
	}
	if err != nil {
		writeControlError(w, err)
		return
	}
	wr, _ := e.Withdraw(txn)
	writeJSON(w, http.StatusOK, wr)
}

type downgradeRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func (q *downgradeRequest) check() string {
	if !validSpeed(q.From) || (q.To != "" && !validSpeed(q.To)) {
		return "from and to must be WithdrawSpeeds (to empty clears)"
	}
	return ""
}

type syntheticRequest struct {
	N int `json:"n"`
}

// apiFaultRequest is POST /_sim/faults/api's body: one fault to add
// (durations as "2s" or nanoseconds).
type apiFaultRequest struct {
	Operation    string       `json:"operation"`
	Status       int          `json:"status"`
	RetryAfter   jsonDuration `json:"retryAfter"`
	Hang         jsonDuration `json:"hang"`
	TruncateBody bool         `json:"truncateBody"`
	Times        int          `json:"times"`
	After        int          `json:"after"`
}

func (q *apiFaultRequest) check() string {
	if q.Status != 0 && (q.Status < 100 || q.Status > 599) {
		return "status must be an HTTP status code"
	}
	return ""
}

func (q *apiFaultRequest) fault() APIFault {
	return APIFault{
		Operation: q.Operation, Status: q.Status, RetryAfter: time.Duration(q.RetryAfter),
		Hang: time.Duration(q.Hang), TruncateBody: q.TruncateBody, Times: q.Times, After: q.After,
	}
}

// webhookFaultsRequest is POST /_sim/faults/webhooks's body: the webhook
// faults that replace the current ones.
type webhookFaultsRequest struct {
	DropNext     int          `json:"dropNext"`
	FailNext     int          `json:"failNext"`
	FailAttempts int          `json:"failAttempts"`
	DropRate     float64      `json:"dropRate"`
	Duplicate    bool         `json:"duplicate"`
	Delay        jsonDuration `json:"delay"`
	Reorder      bool         `json:"reorder"`
	Seed         int64        `json:"seed"`
}

func (q *webhookFaultsRequest) check() string {
	if q.DropRate < 0 || q.DropRate > 1 || q.DropNext < 0 {
		return "dropRate must be within [0,1] and dropNext >= 0"
	}
	if q.FailNext < 0 || q.FailAttempts < 0 {
		return "failNext and failAttempts must be >= 0"
	}
	return ""
}

func (q *webhookFaultsRequest) faults() WebhookFaults {
	return WebhookFaults{
		DropNext: q.DropNext, FailNext: q.FailNext, FailAttempts: q.FailAttempts, DropRate: q.DropRate, Duplicate: q.Duplicate,
		Delay: time.Duration(q.Delay), Reorder: q.Reorder, Seed: q.Seed,
	}
}

type webhookURLRequest struct {
	URL string `json:"url"`
}
