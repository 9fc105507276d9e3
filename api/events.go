package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/mask"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/models"
)

// Replayer applies a stored webhook again (inbox.Applier.Replay).
type Replayer interface {
	Replay(ctx context.Context, id int64, by string) (*models.EventReplay, error)
}

// eventView is a stored webhook as the event log lists it: never its body.
type eventView struct {
	ID          int64              `json:"id"`
	EventType   string             `json:"event_type"`
	State       models.InboxStatus `json:"state"`
	ReceivedAt  time.Time          `json:"received_at"`
	ProcessedAt *time.Time         `json:"processed_at"`
	Attempts    int                `json:"attempts"`
	Auth        authView           `json:"auth"`
	Transaction *string            `json:"transaction"`
	UserID      *string            `json:"user_id"`
	DedupKey    string             `json:"dedup_key"`
	LastError   *string            `json:"last_error"`
	// ConflictsWith is the event first stored under the same identity when
	// this redelivery said something else.
	ConflictsWith *int64     `json:"conflicts_with,omitempty"`
	BodyPrunedAt  *time.Time `json:"body_pruned_at,omitempty"`
}

type authView struct {
	Method *string `json:"method"` // signature | authorization; null before payoutd recorded it
	Key    *string `json:"key"`    // current | previous
}

// eventDetailView is one stored webhook with its masked body, its replays
// and what it changed.
type eventDetailView struct {
	eventView
	// Body is the stored body with secrets and PII masked: a JSON value, or
	// a string saying why it is not shown ("[not JSON, N bytes]",
	// "[pruned ...]").
	Body    any          `json:"body"`
	Replays []replayView `json:"replays"`
	Changed changedView  `json:"changed"`
}

type replayView struct {
	ID          int64      `json:"id"`
	EventID     int64      `json:"event_id"`
	ReplayedBy  string     `json:"replayed_by"`
	RequestedAt time.Time  `json:"requested_at"`
	Outcome     *string    `json:"outcome"`
	FinishedAt  *time.Time `json:"finished_at"`
}

// changedView names the payouts and withdrawers the event changed, by the
// history rows it wrote (one at most of each: history is unique per event).
type changedView struct {
	Payouts     []changedPayout     `json:"payouts"`
	Withdrawers []changedWithdrawer `json:"withdrawers"`
}

type changedPayout struct {
	PayoutID  string `json:"payout_id"`
	HistoryID int64  `json:"history_id"`
	ToStatus  string `json:"to_status"`
	Applied   bool   `json:"applied"`
	Reason    string `json:"reason"`
}

type changedWithdrawer struct {
	UserID    string `json:"user_id"`
	HistoryID int64  `json:"history_id"`
	ToStatus  string `json:"to_status"`
	Applied   bool   `json:"applied"`
	Reason    string `json:"reason"`
}

func newEventView(ev *models.InboxEvent, body []byte) eventView {
	return eventView{
		ID: ev.ID, EventType: ev.EventType, State: ev.Status, ReceivedAt: ev.ReceivedAt.UTC(),
		ProcessedAt: utcPtr(ev.ProcessedAt), Attempts: ev.Attempts,
		Auth:        authView{Method: ev.AuthMethod, Key: ev.AuthKey},
		Transaction: ev.SubjectTransaction, UserID: ev.SubjectUserID, DedupKey: ev.DedupKey,
		LastError: mask.ErrorText(ev.LastError, body), ConflictsWith: ev.ConflictsWith, BodyPrunedAt: utcPtr(ev.BodyPrunedAt),
	}
}

func newReplayView(r *models.EventReplay) replayView {
	return replayView{
		ID: r.ID, EventID: r.InboxEventID, ReplayedBy: r.ReplayedBy, RequestedAt: r.RequestedAt.UTC(),
		Outcome: r.Outcome, FinishedAt: utcPtr(r.FinishedAt),
	}
}

var authMethods = map[string]bool{models.AuthSignature: true, models.AuthAuthorization: true}

func (h *handlers) listEvents(c *gin.Context) {
	q := &query{c: c, errs: map[string]string{}}
	from, to := q.timeRange()
	f := models.InboxFilter{
		EventType:   c.Query("event_type"),
		Transaction: c.Query("transaction"),
		UserID:      c.Query("user_id"),
		AuthMethod:  q.oneOf("auth", func(s string) bool { return authMethods[s] }),
		From:        from,
		To:          to,
		Page:        q.page(),
	}
	if st := q.oneOf("state", models.InboxStatusValid); st != "" {
		f.Statuses = []models.InboxStatus{models.InboxStatus(st)}
	}
	var bodies map[int64][]byte
	listPage(h, c, q, "events", "events", func(ctx context.Context) ([]models.InboxEvent, string, error) {
		evs, next, err := h.store.InboxList(ctx, f)
		if err != nil {
			return nil, "", err
		}
		// The bodies of the few events with an error, to scrub it against.
		var withError []int64
		for i := range evs {
			if evs[i].LastError != nil {
				withError = append(withError, evs[i].ID)
			}
		}
		bodies, err = h.store.InboxBodies(ctx, withError)
		return evs, next, err
	}, func(ev *models.InboxEvent) eventView { return newEventView(ev, bodies[ev.ID]) })
}

// eventID reads the :id parameter; false (and 404 answered) when it is not
// an event id.
func eventID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		respond.Error(c, http.StatusNotFound, "not_found", "event not found")
		return 0, false
	}
	return id, true
}

func (h *handlers) getEvent(c *gin.Context) {
	id, ok := eventID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ev, err := h.store.InboxGet(ctx, id)
	if err != nil {
		h.storeError(c, err, "event")
		return
	}
	replays, err := h.store.EventReplayList(ctx, id)
	if err != nil {
		h.storeError(c, err, "event")
		return
	}
	effects, err := h.store.InboxEffectsOf(ctx, id)
	if err != nil {
		h.storeError(c, err, "event")
		return
	}
	v := eventDetailView{eventView: newEventView(ev, ev.Body), Body: maskedBody(ev),
		Replays: make([]replayView, len(replays)), Changed: changedView{Payouts: []changedPayout{}, Withdrawers: []changedWithdrawer{}}}
	for i := range replays {
		v.Replays[i] = newReplayView(&replays[i])
	}
	for _, p := range effects.Payouts {
		v.Changed.Payouts = append(v.Changed.Payouts, changedPayout{PayoutID: p.PayoutID, HistoryID: p.ID, ToStatus: p.ToStatus, Applied: p.Applied, Reason: p.Reason})
	}
	for _, w := range effects.Withdrawers {
		v.Changed.Withdrawers = append(v.Changed.Withdrawers, changedWithdrawer{UserID: w.UserID, HistoryID: w.ID, ToStatus: w.ToStatus, Applied: w.Applied, Reason: w.Reason})
	}
	c.JSON(http.StatusOK, v)
}

// replayEvent applies a stored webhook again and answers 202 with the
// replay record. The replay runs to its end before the answer (it is one
// short transaction), so the record carries its outcome. Concurrent
// replays of one event queue on its row rather than being refused.
func (h *handlers) replayEvent(c *gin.Context) {
	id, ok := eventID(c)
	if !ok {
		return
	}
	if h.replayer == nil {
		respond.Error(c, http.StatusServiceUnavailable, "replay_unavailable", "replay is not available in this process")
		return
	}
	r, err := h.replayer.Replay(c.Request.Context(), id, principal.Name(c))
	if err != nil {
		h.storeError(c, err, "event")
		return
	}
	c.JSON(http.StatusAccepted, newReplayView(r))
}

// maskedBody is ev's body for showing (package mask, the one rule the
// dashboard uses too): its JSON with secrets and PII masked, or a note
// saying why it is not shown.
func maskedBody(ev *models.InboxEvent) any {
	if ev.BodyPrunedAt != nil {
		return "[pruned " + ev.BodyPrunedAt.UTC().Format(time.RFC3339) + "]"
	}
	body, err := mask.Body(ev.Body)
	if err != nil {
		return body // mask.NotJSON: what stands for it
	}
	return json.RawMessage(body)
}
