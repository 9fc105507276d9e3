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
	c := func(pattern string, h func(w http.ResponseWriter, r *http.Request)) {
		e.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if !e.keyOK(r) {
				writeMsg(w, http.StatusUnauthorized, "Unauthorized")
				return
			}
			h(w, r)
		})
	}
	c("GET /_sim/state", e.simState)
	c("POST /_sim/advance", e.simAdvance)
	c("POST /_sim/now", e.simNow)
	c("POST /_sim/balance", e.simBalance)
	c("GET /_sim/withdrawers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.Withdrawers())
	})
	c("POST /_sim/withdrawers", e.simAddWithdrawer)
	c("POST /_sim/withdrawers/{userId}/verification", e.simVerification)
	c("POST /_sim/withdrawers/{userId}/blocked", e.simBlocked)
	c("GET /_sim/withdraws", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.Withdraws())
	})
	c("POST /_sim/withdraws", e.simCreateWithdraw)
	c("POST /_sim/withdraws/{txn}/{action}", e.simWithdrawAction)
	c("POST /_sim/downgrade", e.simDowngrade)
	c("POST /_sim/synthetic", e.simSynthetic)
	c("POST /_sim/faults/api", e.simAPIFault)
	c("DELETE /_sim/faults/api", func(w http.ResponseWriter, r *http.Request) {
		e.ClearAPIFaults()
		writeJSON(w, http.StatusOK, okJSON{OK: true})
	})
	c("POST /_sim/faults/webhooks", e.simWebhookFaults)
	c("DELETE /_sim/faults/webhooks", func(w http.ResponseWriter, r *http.Request) {
		e.ClearWebhookFaults()
		writeJSON(w, http.StatusOK, okJSON{OK: true})
	})
	c("POST /_sim/webhooks/flush", func(w http.ResponseWriter, r *http.Request) {
		e.FlushWebhooks()
		writeJSON(w, http.StatusOK, okJSON{OK: true})
	})
	c("POST /_sim/webhooks/url", e.simWebhookURL)
	c("GET /_sim/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.Deliveries())
	})
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
		ByStatus: map[string]int{}, Calls: map[string]int{},
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

func (e *Emulator) simAdvance(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Duration jsonDuration `json:"duration"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Duration < 0 {
		writeMsg(w, http.StatusBadRequest, "duration must not be negative")
		return
	}
	e.Advance(time.Duration(req.Duration))
	e.simState(w, r)
}

func (e *Emulator) simNow(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Time time.Time `json:"time"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	e.SetNow(req.Time)
	e.simState(w, r)
}

func (e *Emulator) simBalance(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Cents *int64 `json:"cents"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Cents == nil {
		writeMsg(w, http.StatusBadRequest, "cents is required")
		return
	}
	e.SetBalance(*req.Cents)
	e.simState(w, r)
}

func (e *Emulator) simAddWithdrawer(w http.ResponseWriter, r *http.Request) {
	var spec WithdrawerSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	wd, err := e.AddWithdrawer(spec)
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, wd)
}

func (e *Emulator) simVerification(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Status string `json:"status"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if err := e.SetVerification(r.PathValue("userId"), req.Status); err != nil {
		writeControlError(w, err)
		return
	}
	wd, _ := e.Withdrawer(r.PathValue("userId"))
	writeJSON(w, http.StatusOK, wd)
}

func (e *Emulator) simBlocked(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Blocked bool `json:"blocked"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if err := e.SetBlocked(r.PathValue("userId"), req.Blocked); err != nil {
		writeControlError(w, err)
		return
	}
	wd, _ := e.Withdrawer(r.PathValue("userId"))
	writeJSON(w, http.StatusOK, wd)
}

func (e *Emulator) simCreateWithdraw(w http.ResponseWriter, r *http.Request) {
	var spec WithdrawSpec
	if !decodeBody(w, r, &spec) {
		return
	}
	wr, err := e.CreateWithdraw(spec)
	if err != nil {
		writeControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, wr)
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
	default:
		writeMsg(w, http.StatusNotFound, "unknown action (complete, fail, fail-after-success, return-complete, stuck, in-review)")
		return
	}
	if err != nil {
		writeControlError(w, err)
		return
	}
	wr, _ := e.Withdraw(txn)
	writeJSON(w, http.StatusOK, wr)
}

func (e *Emulator) simDowngrade(w http.ResponseWriter, r *http.Request) {
	var req struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if !validSpeed(req.From) || (req.To != "" && !validSpeed(req.To)) {
		writeMsg(w, http.StatusBadRequest, "from and to must be WithdrawSpeeds (to empty clears)")
		return
	}
	e.SetDowngrade(req.From, req.To)
	writeJSON(w, http.StatusOK, okJSON{OK: true})
}

// simSynthetic is POST /_sim/synthetic {"n": N}: N default-generated
// withdraws (see SeedSynthetic).
func (e *Emulator) simSynthetic(w http.ResponseWriter, r *http.Request) {
	var req struct {
		N int `json:"n"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	e.SeedSynthetic(req.N, nil)
	e.simState(w, r)
}

// simAPIFault is POST /_sim/faults/api: adds one fault (durations as
// "2s" or nanoseconds).
func (e *Emulator) simAPIFault(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Operation    string       `json:"operation"`
		Status       int          `json:"status"`
		RetryAfter   jsonDuration `json:"retryAfter"`
		Hang         jsonDuration `json:"hang"`
		TruncateBody bool         `json:"truncateBody"`
		Times        int          `json:"times"`
		After        int          `json:"after"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.Status != 0 && (req.Status < 100 || req.Status > 599) {
		writeMsg(w, http.StatusBadRequest, "status must be an HTTP status code")
		return
	}
	e.SetAPIFaults(APIFault{
		Operation: req.Operation, Status: req.Status, RetryAfter: time.Duration(req.RetryAfter),
		Hang: time.Duration(req.Hang), TruncateBody: req.TruncateBody, Times: req.Times, After: req.After,
	})
	writeJSON(w, http.StatusOK, okJSON{OK: true})
}

// simWebhookFaults is POST /_sim/faults/webhooks: replaces the webhook
// faults.
func (e *Emulator) simWebhookFaults(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DropNext  int          `json:"dropNext"`
		DropRate  float64      `json:"dropRate"`
		Duplicate bool         `json:"duplicate"`
		Delay     jsonDuration `json:"delay"`
		Reorder   bool         `json:"reorder"`
		Seed      int64        `json:"seed"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	if req.DropRate < 0 || req.DropRate > 1 || req.DropNext < 0 {
		writeMsg(w, http.StatusBadRequest, "dropRate must be within [0,1] and dropNext >= 0")
		return
	}
	e.SetWebhookFaults(WebhookFaults{
		DropNext: req.DropNext, DropRate: req.DropRate, Duplicate: req.Duplicate,
		Delay: time.Duration(req.Delay), Reorder: req.Reorder, Seed: req.Seed,
	})
	writeJSON(w, http.StatusOK, okJSON{OK: true})
}

func (e *Emulator) simWebhookURL(w http.ResponseWriter, r *http.Request) {
	var req struct {
		URL string `json:"url"`
	}
	if !decodeBody(w, r, &req) {
		return
	}
	e.SetWebhookURL(req.URL)
	writeJSON(w, http.StatusOK, okJSON{OK: true})
}
