package reconcile

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/models"
)

// The undelivered check (webhook_undelivered) reads Coinflow's webhook
// activity, finds the events whose every delivery attempt failed and that
// payoutd does not hold, asks Coinflow to send them again, and keeps a
// finding open until they are held.
//
// "Deliveries to payoutd": Coinflow sends a merchant's webhooks to the URL
// the merchant configured, and SPEC names no setting for payoutd's public
// URL, so by default every row of the merchant's activity counts, whatever
// its url. That is safe: an event is only acted on when no attempt of it
// succeeded anywhere and payoutd does not hold it, and payoutd is what
// needs it. Config.WebhookURL narrows the check to one URL for a merchant
// whose log also holds another consumer's endpoint.
//
// "Held": the activity's data is either the whole packet (the spec allows
// it) or only the event's data (the fixture and the emulator). A packet is
// identified as ingestion identifies it (inbox.Identity, the dedup key).
// Bare data has no created time, which the dedup key includes, so the
// event is held when payoutd stores an event of the same type for the same
// subject (withdraw signature, or the KYC wallet's user): Coinflow's own
// dedup rule for events without ids (README 8.6). Events of types payoutd
// does not track are left alone.

// Defaults of the check's settings.
const (
	defaultMaxResends    = 10
	defaultResendPace    = time.Second
	defaultResendBackoff = time.Hour
)

// undeliveredGroup is every attempt seen of one event.
type undeliveredGroup struct {
	first, last coinflow.WebhookDisplay
	attempts    int
}

// checkUndelivered is the webhook_undelivered check.
func (r *Reconciler) checkUndelivered(ctx context.Context, st *runState) {
	open, err := r.store.FindingListUnresolvedOfKind(ctx, models.KindWebhookUndelivered)
	if err != nil {
		st.problem("undelivered", err, true)
		return
	}
	// Reach back to the first attempt of every event still open, so that
	// its attempts (and a later success) are seen even when it is older
	// than this run's window.
	since := st.since
	bySubject := map[string]models.Finding{}
	for _, f := range open {
		bySubject[f.Subject] = f
		if t, ok := detailTime(f.Details, "first_sent_at"); ok && t.Before(since) {
			since = t
		}
	}
	groups, order, err := r.readActivity(ctx, since)
	if err != nil {
		st.problem("undelivered", err, false)
		return // nothing resolved on a partial read
	}
	resends := 0
	for _, k := range order {
		g := groups[k]
		if g == nil {
			continue // delivered
		}
		held, ev, err := r.held(ctx, g.first)
		if err != nil {
			st.problem("undelivered", err, true)
			return
		}
		if ev == nil || held {
			continue
		}
		prev := bySubject[g.first.ID]
		if err := r.raiseUndelivered(ctx, st, g, ev, prev.Details, &resends); err != nil {
			st.problem("undelivered", err, true)
			return
		}
	}
	n, err := r.store.FindingResolveUnseen(ctx, models.KindWebhookUndelivered, st.run.ID, "")
	r.resolved(st, n, err, "undelivered")
}

// readActivity reads the activity since, keyed by event (type and data),
// in the order events first appear. A key maps to nil once an attempt of
// that event succeeded.
func (r *Reconciler) readActivity(ctx context.Context, since time.Time) (map[[32]byte]*undeliveredGroup, [][32]byte, error) {
	groups := map[[32]byte]*undeliveredGroup{}
	var order [][32]byte
	want := r.cfg.WebhookURL
	for d, err := range r.cf.WebhookActivity(ctx, coinflow.WebhookActivityParams{Since: since, Limit: r.cfg.PageSize}) {
		if err != nil {
			return nil, nil, fmt.Errorf("webhook activity: %w", err)
		}
		if want != "" && d.URL != want {
			continue
		}
		k := eventKey(d)
		g, seen := groups[k]
		switch {
		case !seen:
			order = append(order, k)
			if d.Delivered() {
				groups[k] = nil
				continue
			}
			groups[k] = &undeliveredGroup{first: d, last: d, attempts: 1}
		case g == nil:
		case d.Delivered():
			groups[k] = nil
		default:
			g.last = d
			g.attempts++
		}
	}
	return groups, order, nil
}

// eventKey names the event of an activity row: every attempt and resend of
// one event carries the same type and data.
func eventKey(d coinflow.WebhookDisplay) [32]byte {
	var buf bytes.Buffer
	if json.Compact(&buf, d.Data) != nil {
		buf.Reset()
		buf.Write(d.Data)
	}
	return sha256.Sum256(append([]byte(d.EventType+"\x00"), buf.Bytes()...))
}

// held decodes the event of an activity row as ingestion would and reports
// whether payoutd stores it. ev is nil for an event payoutd does not track
// or cannot read: it is not acted on.
func (r *Reconciler) held(ctx context.Context, d coinflow.WebhookDisplay) (bool, any, error) {
	body := []byte(d.Data)
	if !d.IsPacket() {
		// Bare data: wrap it as its packet. created is unknown; the first
		// attempt's time stands in, and is not used to look it up.
		var err error
		body, err = json.Marshal(struct {
			EventType string          `json:"eventType"`
			Category  string          `json:"category"`
			Created   string          `json:"created"`
			Data      json.RawMessage `json:"data"`
		}{d.EventType, d.Category, d.SentAt.UTC().Format(time.RFC3339Nano), d.Data})
		if err != nil {
			return false, nil, nil
		}
	}
	ev, err := inbox.Decode(body)
	if err != nil {
		return false, nil, nil
	}
	if d.IsPacket() {
		key := inbox.Identity(ev)
		held, err := r.store.InboxHeldKeys(ctx, []string{key})
		return held[key], ev, err
	}
	txn, user := inbox.Subject(ev)
	held, err := r.store.InboxHoldsSubject(ctx, inbox.TypeOf(ev), txn, user)
	return held, ev, err
}

// raiseUndelivered asks Coinflow to resend g's event when this run may
// (MaxResends per run, one call per ResendPace, no event more often than
// ResendBackoff) and raises webhook_undelivered for it, carrying the
// resend history in prev forward.
func (r *Reconciler) raiseUndelivered(ctx context.Context, st *runState, g *undeliveredGroup, ev any, prev models.Details, resends *int) error {
	txn, user := inbox.Subject(ev)
	details := models.Details{
		"event_type": g.first.EventType, "attempts": g.attempts, "url": g.last.URL,
		"first_sent_at": g.first.SentAt.UTC(), "last_sent_at": g.last.SentAt.UTC(),
		"last_response_code": g.last.ResponseCode, "last_attempt_id": g.last.ID,
	}
	if txn != "" {
		details["transaction"] = txn
	}
	n, _ := prev["resends"].(float64)
	details["resends"] = int(n)
	lastResent, resentBefore := detailTime(prev, "last_resent_at")
	if resentBefore {
		details["last_resent_at"] = lastResent.UTC()
	}
	if job, ok := prev["last_job_id"]; ok {
		details["last_job_id"] = job
	}
	due := !resentBefore || st.now.Sub(lastResent) >= cmp.Or(max(r.cfg.ResendBackoff, 0), defaultResendBackoff)
	if due && *resends < cmp.Or(max(r.cfg.MaxResends, 0), defaultMaxResends) {
		if *resends > 0 {
			if err := coinflow.Sleep(ctx, cmp.Or(max(r.cfg.ResendPace, 0), defaultResendPace)); err != nil {
				return err
			}
		}
		*resends++
		job, err := r.cf.ResendWebhook(ctx, g.last.ID)
		switch {
		case err == nil:
			st.add("webhooks_resent", 1)
			details["resends"] = int(n) + 1
			details["last_resent_at"] = st.now.UTC()
			details["last_job_id"] = job
		case errors.Is(err, coinflow.ErrRateLimited):
			*resends = 1 << 30 // no more this run
			st.problem("undelivered", err, false)
		default:
			st.problem("undelivered", err, false)
		}
	}
	f := models.Finding{
		Kind: models.KindWebhookUndelivered, Subject: g.first.ID, Severity: models.SeverityWarning, Details: details,
	}
	if user != "" {
		f.UserID = &user
	}
	return r.raise(ctx, r.store, st, f)
}

// detailTime reads a time a finding's details hold (as RFC 3339 text once
// stored).
func detailTime(d models.Details, key string) (time.Time, bool) {
	switch v := d[key].(type) {
	case time.Time:
		return v, true
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		return t, err == nil
	}
	return time.Time{}, false
}
