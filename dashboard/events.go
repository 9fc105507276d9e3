package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/mask"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/models"
)

// The event log's filter choices, in the order the form lists them.
var (
	eventStates = []models.InboxStatus{
		models.InboxApplied, models.InboxPending, models.InboxParked, models.InboxIgnored, models.InboxUnprocessable,
	}
	authMethods = []string{models.AuthSignature, models.AuthAuthorization}
)

type eventsData struct {
	State, Auth                              choiceField
	EventType, Transaction, UserID, From, To string
	Events                                   []models.InboxEvent
	Next                                     string
	Searched                                 bool
}

func (h *handler) events(c *gin.Context) {
	if jumpTo(c, "id", "/events/") {
		return
	}
	l := newListing(c, "/events", "event", "state", "event_type", "transaction", "user_id", "auth", "from", "to")
	l.strict(c, "id")
	state := oneOf(&l, "state", func(s models.InboxStatus) bool { return models.InboxStatusValid(string(s)) }, eventStates)
	f := models.InboxFilter{
		EventType: l.get("event_type"), Transaction: l.get("transaction"), UserID: l.get("user_id"),
		AuthMethod: oneOf(&l, "auth", func(s string) bool { return slices.Contains(authMethods, s) }, authMethods),
	}
	if state != "" {
		f.Statuses = []models.InboxStatus{state}
	}
	f.From, f.To = l.timeRange()
	if h.rejected(c, l) {
		return
	}
	evs, next, ok := listPage(h, c, l, func(ctx context.Context, p models.Page) ([]models.InboxEvent, string, error) {
		f.Page = p
		return h.store.InboxList(ctx, f)
	})
	if !ok {
		return
	}
	d := eventsData{
		State: choice("State", "state", state, eventStates), Auth: choice("Authenticated by", "auth", f.AuthMethod, authMethods),
		EventType: f.EventType, Transaction: f.Transaction, UserID: f.UserID, From: l.get("from"), To: l.get("to"),
		Events: evs, Next: next, Searched: l.filtered(),
	}
	h.render(c, http.StatusOK, "events", view{Title: "Events", Active: "events", Data: d})
}

type eventData struct {
	Event    *models.InboxEvent
	Body     string // masked, or what stands for it
	BodyNote string // why Body is not the body, or ""
	Replays  []models.EventReplay
	Effects  models.InboxEffects
	Replayed *models.EventReplay // the replay just asked for, for the notice
}

// eventID reads the :id of an event route; ok is false (and a 404
// answered) for anything but a positive integer.
func (h *handler) eventID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.storeError(c, models.ErrNotFound, "event", "/events")
		return 0, false
	}
	return id, true
}

func (h *handler) event(c *gin.Context) {
	id, ok := h.eventID(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ev, err := h.store.InboxGet(ctx, id)
	if err != nil {
		h.storeError(c, err, "event", "/events")
		return
	}
	d := eventData{Event: ev}
	switch {
	case ev.BodyPrunedAt != nil:
		d.BodyNote = "The body was pruned on " + formatTime(*ev.BodyPrunedAt) + " by retention; the dedup key and state are kept."
	default:
		d.Body, err = mask.Body(ev.Body)
		if errors.Is(err, mask.ErrNotJSON) {
			d.BodyNote = "The body is not JSON, so none of it is shown."
		}
	}
	// The last error is payoutd's own text, but a database error may quote
	// a value of the body: it is shown as the API shows it.
	ev.LastError = mask.ErrorText(ev.LastError, ev.Body)
	ev.Body = nil // shown only masked
	if d.Replays, err = h.store.EventReplayList(ctx, id); err == nil {
		d.Effects, err = h.store.InboxEffectsOf(ctx, id)
	}
	if err != nil {
		h.storeError(c, err, "event", "/events")
		return
	}
	// The notice names a replay of this event only, so that a crafted link
	// cannot put words on the page.
	if r := c.Query("replayed"); r != "" {
		for i := range d.Replays {
			if strconv.FormatInt(d.Replays[i].ID, 10) == r {
				d.Replayed = &d.Replays[i]
			}
		}
	}
	h.render(c, http.StatusOK, "event", view{Title: "Event " + strconv.FormatInt(id, 10), Active: "events", Data: d})
}

// replay applies the event again through the one replay path
// (inbox.Applier.Replay): an applied event is decided again and nothing
// written, any other is applied once. requireSession and
// requireCSRF have run. The replay is recorded under the login's token
// name.
func (h *handler) replay(c *gin.Context) {
	id, ok := h.eventID(c)
	if !ok {
		return
	}
	back := "/events/" + strconv.FormatInt(id, 10)
	who := principal.Name(c)
	if h.replayer == nil {
		h.fail(c, http.StatusServiceUnavailable, "Replay unavailable", "This payoutd does not apply webhooks, so it cannot replay one.", back)
		return
	}
	r, err := h.replayer.Replay(c.Request.Context(), id, who)
	if err != nil {
		h.storeError(c, err, "event", "/events")
		return
	}
	h.logger(c).WithField("inbox_event_id", id).WithField("outcome", models.Deref(r.Outcome)).Info("event replayed from the dashboard")
	c.Redirect(http.StatusSeeOther, back+"?"+url.Values{"replayed": {strconv.FormatInt(r.ID, 10)}}.Encode()+"#replays")
}
