package coinflowtest

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// hooks is the webhook sender: a FIFO of first attempts worked by one
// dispatcher goroutine (so events go out in the order they happened unless a
// fault says otherwise), plus one goroutine per delivery waiting to retry
// (so a retry can overtake later events, as Coinflow warns).
type hooks struct {
	mu      sync.Mutex
	url     string
	key     string
	retry   RetryPolicy
	signNow func() time.Time
	client  *http.Client
	faults  WebhookFaults
	// logPackets makes the activity log's data the whole packet rather
	// than the event's data (SetWebhookLogPackets).
	logPackets bool
	dice       *rand.Rand

	all      []*delivery // every delivery, in creation order
	pending  []*delivery // waiting for their first attempt
	held     []*delivery // held by WebhookFaults.Reorder until a flush
	inflight int         // taken off pending and not finished
	log      []*logEntry
	logByID  map[string]*logEntry
	jobs     int

	wakeCh  chan struct{} // nudges the dispatcher
	changed chan struct{} // closed and replaced on every change
}

type delivery struct {
	Delivery
	ev *event
	// failAttempts, for a delivery of WebhookFaults.FailNext, is how many
	// unanswered attempts it gets before Coinflow gives up.
	failAttempts int
}

// logEntry is one attempt: a WebhookDisplay row.
type logEntry struct {
	id           string
	ev           *event
	sentAt       time.Time
	url          string
	responseCode int
}

func newHooks(opts Options, seed uint64) *hooks {
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
			// A redirect is not a 200: it counts as a failed attempt.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &hooks{
		url: opts.WebhookURL, key: opts.WebhookKey, retry: opts.WebhookRetry,
		signNow: opts.SignNowFunc, client: client,
		dice:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		logByID: map[string]*logEntry{},
		wakeCh:  make(chan struct{}, 1),
		changed: make(chan struct{}),
	}
}

// notifyLocked wakes WaitWebhooks callers and the dispatcher.
func (h *hooks) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
	h.wake()
}

func (h *hooks) wake() {
	select {
	case h.wakeCh <- struct{}{}:
	default:
	}
}

func (h *hooks) closeIdle() { h.client.CloseIdleConnections() }

// enqueue records ev and queues its delivery, applying the drop, duplicate
// and reorder faults in force now.
func (h *hooks) enqueue(ev *event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	defer h.notifyLocked()
	if h.url == "" {
		h.addLocked(ev).NoURL = true
		return
	}
	f := &h.faults
	drop := false
	switch {
	case f.DropNext > 0:
		f.DropNext--
		drop = true
	case f.DropRate > 0:
		drop = h.dice.Float64() < f.DropRate
	}
	if drop {
		h.addLocked(ev).Dropped = true
		return
	}
	failAttempts := 0
	if f.FailNext > 0 {
		f.FailNext--
		failAttempts = cmp.Or(f.FailAttempts, 3)
	}
	copies := 1
	if f.Duplicate {
		copies = 2
	}
	for i := range copies {
		d := h.addLocked(ev)
		d.Duplicate = i > 0
		d.Undeliverable, d.failAttempts = failAttempts > 0, failAttempts
		if f.Reorder {
			h.held = append(h.held, d)
		} else {
			h.pending = append(h.pending, d)
		}
	}
}

func (h *hooks) addLocked(ev *event) *delivery {
	d := &delivery{ev: ev, Delivery: Delivery{
		ID: len(h.all) + 1, EventType: ev.eventType, Category: ev.category,
		Transaction: ev.transaction, UserID: ev.userID, Created: ev.created, Body: ev.body,
	}}
	h.all = append(h.all, d)
	return d
}

// flushLocked releases the events held by Reorder, newest first.
func (h *hooks) flushLocked() {
	if len(h.held) == 0 {
		return
	}
	slices.Reverse(h.held)
	h.pending = append(h.pending, h.held...)
	h.held = nil
	h.notifyLocked()
}

// next blocks until a delivery is due for its first attempt and marks it in
// flight; nil once ctx is done.
func (h *hooks) next(ctx context.Context) *delivery {
	for {
		h.mu.Lock()
		if len(h.pending) > 0 {
			d := h.pending[0]
			h.pending = h.pending[1:]
			h.inflight++
			h.mu.Unlock()
			return d
		}
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-h.wakeCh:
		}
	}
}

// outcome is what an attempt leaves a delivery in.
type outcome int

const (
	failed    outcome = iota // anything but 200: retry, or give up
	delivered                // the receiver answered exactly 200
	abandoned                // no URL any more, or the emulator is closing
)

func (h *hooks) finish(d *delivery, o outcome) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch o {
	case delivered:
		d.Delivered = true
	case abandoned:
		d.NoURL = h.url == ""
	default:
		d.GaveUp = true
	}
	h.inflight--
	h.notifyLocked()
}

// dispatch works the queue until ctx ends (Close).
func (e *Emulator) dispatch(ctx context.Context) {
	defer e.wg.Done()
	h := e.hooks
	for {
		d := h.next(ctx)
		if d == nil {
			return
		}
		h.mu.Lock()
		delay := h.faults.Delay
		h.mu.Unlock()
		if !sleepCtx(ctx, delay) {
			return
		}
		first := time.Now()
		if o := e.attempt(ctx, d); o != failed {
			h.finish(d, o)
			continue
		}
		e.wg.Add(1)
		go e.retry(ctx, d, first)
	}
}

// retry re-attempts d with exponential backoff until it is delivered or the
// next attempt would start after GiveUpAfter.
func (e *Emulator) retry(ctx context.Context, d *delivery, first time.Time) {
	defer e.wg.Done()
	h := e.hooks
	wait := h.retry.Initial
	for {
		if time.Since(first)+wait > h.retry.GiveUpAfter || h.exhausted(d) {
			h.finish(d, failed)
			return
		}
		if !sleepCtx(ctx, wait) {
			return
		}
		if o := e.attempt(ctx, d); o != failed {
			h.finish(d, o)
			return
		}
		wait = min(2*wait, h.retry.Max)
	}
}

// exhausted reports whether d, undeliverable by WebhookFaults.FailNext, has
// had all its attempts.
func (h *hooks) exhausted(d *delivery) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return d.Undeliverable && d.Attempts >= d.failAttempts
}

// attempt POSTs d once, signed now, and logs the attempt. Only an answer of
// exactly 200 delivers it. A delivery undeliverable by WebhookFaults.FailNext
// is not sent: its attempt is logged as unanswered.
func (e *Emulator) attempt(ctx context.Context, d *delivery) outcome {
	h := e.hooks
	h.mu.Lock()
	url, key, timeout := h.url, h.key, h.retry.Timeout
	h.mu.Unlock()
	if url == "" {
		return abandoned
	}
	sentAt := e.Now()
	code := 0
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(d.ev.body))
	if err == nil && !d.Undeliverable {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "coinflowtest")
		if key != "" {
			req.Header.Set("Authorization", key)
		}
		req.Header.Set("Coinflow-Signature", Sign(key, h.signNow(), d.ev.body))
		if resp, err := h.client.Do(req); err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			code = resp.StatusCode
		}
	}
	if ctx.Err() != nil {
		return abandoned // closing: an aborted attempt is not a receiver's answer
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d.Attempts++
	d.LastStatus = code
	le := &logEntry{id: e.ids.logs.objectID(sentAt), ev: d.ev, sentAt: sentAt, url: url, responseCode: code}
	h.log = append(h.log, le)
	h.logByID[le.id] = le
	h.notifyLocked()
	if code == http.StatusOK {
		return delivered
	}
	return failed
}

// resend queues a new delivery of a logged event (POST
// /merchant/webhooks/{id}) and returns its job id.
func (h *hooks) resend(logID string) (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	le := h.logByID[logID]
	if le == nil {
		return 0, false
	}
	d := h.addLocked(le.ev)
	d.Resent = true
	if h.url == "" {
		d.NoURL = true
	} else {
		h.pending = append(h.pending, d)
	}
	h.jobs++
	h.notifyLocked()
	return h.jobs, true
}

// WaitWebhooks blocks until every queued webhook has been delivered, given
// up on or dropped, and nothing is in flight or waiting to retry. Events
// held by WebhookFaults.Reorder are flushed first. Tests use it instead of
// sleeping. ErrClosed once the emulator is closed.
func (e *Emulator) WaitWebhooks(ctx context.Context) error {
	h := e.hooks
	for {
		select {
		case <-e.closed:
			return ErrClosed
		default:
		}
		h.mu.Lock()
		h.flushLocked()
		idle := len(h.pending) == 0 && h.inflight == 0
		ch := h.changed
		h.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.closed:
			return ErrClosed
		case <-ch:
		}
	}
}

// FlushWebhooks releases the events held by WebhookFaults.Reorder, in
// reverse order, without waiting for their delivery.
func (e *Emulator) FlushWebhooks() {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.flushLocked()
}

// Deliveries returns every webhook delivery so far, in creation order.
func (e *Emulator) Deliveries() []Delivery {
	h := e.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Delivery, len(h.all))
	for i, d := range h.all {
		out[i] = d.Delivery
		out[i].Body = bytes.Clone(d.Body) // the event's bytes are resent: keep them intact
	}
	return out
}

// SetWebhookLogPackets makes GET /merchant/webhooks show each row's data as
// the whole WebhookPacket (eventType, category, created, data), which the
// spec allows, instead of the event's data as in Coinflow's fixture.
func (e *Emulator) SetWebhookLogPackets(on bool) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.logPackets = on
}

// SetWebhookURL changes where later attempts go; "" stops sending (events
// are then recorded only).
func (e *Emulator) SetWebhookURL(url string) {
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	e.hooks.url = url
}

// sleepCtx sleeps d and reports false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
