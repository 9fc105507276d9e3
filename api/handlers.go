package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/initiate"
	"github.com/payoutd/payoutd/internal/listquery"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/rail"
	"github.com/payoutd/payoutd/reconcile"
)

type handlers struct {
	store      *models.Store
	log        *logrus.Entry
	initiator  *initiate.Service     // nil when no Coinflow API key is configured
	onboard    *onboard.Service      // likewise
	reconciler *reconcile.Reconciler // likewise
	replayer   Replayer              // nil: replay answers 503
}

// logger is the handlers' log entry with the request's id.
func (h *handlers) logger(c *gin.Context) *logrus.Entry {
	return reqlog.Entry(c.Request.Context(), h.log)
}

// storeError answers for a store error: 404 for not found, 409 for a
// conflict, 500 sum_overflow for amounts too large to add up (a stored
// amount is wrong), 503 when the database cannot be reached (retrying may
// help), else 500 (it will not). Every 5xx is logged with its cause here,
// and none carries the error's text.
func (h *handlers) storeError(c *gin.Context, err error, what string) {
	switch {
	case errors.Is(err, models.ErrOverflow):
		h.logger(c).WithError(err).WithField("route", c.FullPath()).Error("store request")
		respond.Error(c, http.StatusInternalServerError, "sum_overflow",
			"stored amounts add up to more than payoutd can count; a payout's amount is wrong")
	case errors.Is(err, models.ErrNotFound):
		respond.Error(c, http.StatusNotFound, "not_found", what+" not found")
	case errors.Is(err, models.ErrBadCursor):
		respond.FieldErrors(c, map[string]string{"cursor": "not a cursor this server issued"})
	case errors.Is(err, models.ErrConflict):
		respond.Error(c, http.StatusConflict, "conflict", what+" changed; retry")
	case errors.Is(err, models.ErrUnavailable):
		h.logger(c).WithError(err).WithField("route", c.FullPath()).Error("store unavailable")
		respond.Error(c, http.StatusServiceUnavailable, "unavailable", "the database is unavailable; retry later")
	default:
		h.logger(c).WithError(err).WithField("route", c.FullPath()).Error("store request")
		respond.Internal(c)
	}
}

// query reads the common paging and time filters, collecting problems.
type query struct {
	c    *gin.Context
	errs map[string]string
}

func (q *query) page() models.Page {
	p := models.Page{Cursor: q.c.Query("cursor")}
	if s := q.c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			q.errs["limit"] = "must be a whole number from 1 to 500"
		}
		p.Limit = n
	}
	return p
}

// time accepts RFC 3339 or a date (midnight UTC).
func (q *query) time(name string) time.Time {
	t, _, err := listquery.Time(q.c.Query(name))
	if err != nil {
		q.errs[name] = listquery.TimeRule
	}
	return t
}

// timeRange reads from and to, the half-open range [from, to). Given both,
// to must come after from: a range that can match nothing is the caller's
// mistake, and an empty 200 would hide it.
func (q *query) timeRange() (from, to time.Time) {
	from, to = q.time("from"), q.time("to")
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		q.errs["to"] = "must be after from (to is excluded)"
	}
	return from, to
}

func (q *query) bool(name string) bool {
	b, err := listquery.Bool(q.c.Query(name))
	if err != nil {
		q.errs[name] = listquery.BoolRule
	}
	return b
}

func (q *query) oneOf(name string, allowed func(string) bool) string {
	s := q.c.Query(name)
	if s != "" && !allowed(s) {
		q.errs[name] = "is not a known value"
	}
	return s
}

func (h *handlers) listPayouts(c *gin.Context) {
	q := &query{c: c, errs: map[string]string{}}
	from, to := q.timeRange()
	f := models.PayoutFilter{
		Status:         models.PayoutStatus(q.oneOf("status", func(s string) bool { return models.PayoutStatus(s).Valid() })),
		UserID:         c.Query("user_id"),
		Speed:          q.oneOf("speed", rail.Valid),
		Transaction:    c.Query("transaction"),
		IdempotencyKey: c.Query("idempotency_key"),
		Stuck:          q.bool("stuck"),
		From:           from,
		To:             to,
		Page:           q.page(),
	}
	listPage(h, c, q, "payouts", "payout", func(ctx context.Context) ([]models.Payout, string, error) { return h.store.PayoutList(ctx, f) },
		func(p *models.Payout) payoutView { return newPayoutView(p, nil) })
}

// listPage answers a list request: 422 with the query's problems, else one
// page of rows, each shown by view, under name with the next cursor. what
// names a row in errors.
func listPage[T, V any](h *handlers, c *gin.Context, q *query, name, what string,
	list func(context.Context) ([]T, string, error), view func(*T) V) {
	if len(q.errs) > 0 {
		respond.FieldErrors(c, q.errs)
		return
	}
	rows, next, err := list(c.Request.Context())
	if err != nil {
		h.storeError(c, err, what)
		return
	}
	out := make([]V, len(rows))
	for i := range rows {
		out[i] = view(&rows[i])
	}
	c.JSON(http.StatusOK, gin.H{name: out, "next_cursor": next})
}

func (h *handlers) getPayout(c *gin.Context) {
	id := c.Param("id")
	withHistory(h, c, "payout", func(ctx context.Context) (*models.Payout, error) { return h.store.PayoutGet(ctx, id) },
		func(ctx context.Context, p *models.Payout) ([]models.PayoutHistory, error) {
			return h.store.PayoutHistoryList(ctx, p.ID)
		},
		newPayoutView)
}

// withHistory answers one record with its history, shown by view; what
// names the record in errors.
func withHistory[T, H, V any](h *handlers, c *gin.Context, what string, get func(context.Context) (*T, error),
	history func(context.Context, *T) ([]H, error), view func(*T, []H) V) {
	ctx := c.Request.Context()
	rec, err := get(ctx)
	if err != nil {
		h.storeError(c, err, what)
		return
	}
	hist, err := history(ctx, rec)
	if err != nil {
		h.storeError(c, err, what)
		return
	}
	c.JSON(http.StatusOK, view(rec, hist))
}

var (
	findingStatuses = map[string]bool{"open": true, "acknowledged": true, "snoozed": true, "resolved": true}
	findingKinds    = func() map[string]bool {
		m := map[string]bool{}
		for _, k := range models.FindingKinds() {
			m[string(k)] = true
		}
		return m
	}()
	severities = map[string]bool{"info": true, "warning": true, "error": true}
)

func (h *handlers) listFindings(c *gin.Context) {
	q := &query{c: c, errs: map[string]string{}}
	f := models.FindingFilter{
		Status:   models.FindingStatus(q.oneOf("status", func(s string) bool { return findingStatuses[s] })),
		Kind:     models.FindingKind(q.oneOf("kind", func(s string) bool { return findingKinds[s] })),
		Severity: models.Severity(q.oneOf("severity", func(s string) bool { return severities[s] })),
		PayoutID: c.Query("payout_id"),
		Page:     q.page(),
	}
	now := h.store.Now()
	listPage(h, c, q, "findings", "finding", func(ctx context.Context) ([]models.Finding, string, error) { return h.store.FindingList(ctx, f) },
		func(f *models.Finding) findingView { return newFindingView(f, now) })
}

type acknowledgeRequest struct {
	Note string `json:"note"`
	// By is refused when present: the acknowledgement is recorded under
	// the name of the token that made the request.
	By *string `json:"by"`
}

const maxNote = 2000

// maxFindingBody bounds an acknowledgement's or a snooze's body: a note of
// 2000 bytes, escaped, fits many times over.
const maxFindingBody = 16 << 10

// bindFindingBody reads a finding action's JSON body into dst, answering
// 413 past maxFindingBody and 400 bad_json with hint for anything else that
// is not a JSON object; it reports whether dst holds the body.
func bindFindingBody(c *gin.Context, dst any, hint string) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFindingBody)
	err := c.ShouldBindJSON(dst)
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		respond.Error(c, http.StatusRequestEntityTooLarge, "too_large", "request body is larger than 16 KiB")
		return false
	}
	if err != nil {
		respond.Error(c, http.StatusBadRequest, "bad_json", hint)
		return false
	}
	return true
}

func (h *handlers) acknowledgeFinding(c *gin.Context) {
	var req acknowledgeRequest
	if !bindFindingBody(c, &req, "body must be a JSON object with a note") {
		return
	}
	errs := map[string]string{}
	if strings.TrimSpace(req.Note) == "" {
		errs["note"] = "is required"
	} else if len(req.Note) > maxNote {
		errs["note"] = "must be at most 2000 bytes"
	}
	if req.By != nil {
		errs["by"] = "is not accepted: the acknowledgement is recorded under the name of the API token that sent it"
	}
	if len(errs) > 0 {
		respond.FieldErrors(c, errs)
		return
	}
	f, err := h.store.FindingAcknowledge(c.Request.Context(), c.Param("id"), principal.Name(c), req.Note)
	if errors.Is(err, models.ErrConflict) {
		respond.Error(c, http.StatusConflict, "finding_resolved", "the finding is already resolved")
		return
	}
	if err != nil {
		h.storeError(c, err, "finding")
		return
	}
	c.JSON(http.StatusOK, newFindingView(f, h.store.Now()))
}

type snoozeRequest struct {
	Until string `json:"until"`
	Note  string `json:"note"`
}

// snoozeFinding snoozes an unresolved finding until a time (RFC 3339) or
// the start of a date (YYYY-MM-DD, UTC), with a note: 200 with the
// finding; 422 naming each bad field (until in the past or more than 90
// days ahead, no note); 409 for a resolved finding. Who snoozed is who
// authenticated the request.
func (h *handlers) snoozeFinding(c *gin.Context) {
	var req snoozeRequest
	if !bindFindingBody(c, &req, `body must be a JSON object with "until" and "note"`) {
		return
	}
	until, err := time.Parse(time.RFC3339, req.Until)
	if err != nil {
		until, err = time.Parse(time.DateOnly, req.Until)
	}
	errs := models.SnoozeProblems(h.store.Now(), until, req.Note)
	if err != nil && req.Until != "" {
		errs["until"] = "must be an RFC 3339 time or a YYYY-MM-DD date"
	}
	if len(errs) > 0 {
		respond.FieldErrors(c, errs)
		return
	}
	who := principal.Name(c)
	f, err := h.store.FindingSnooze(c.Request.Context(), c.Param("id"), until.UTC(), who, req.Note)
	switch {
	case errors.Is(err, models.ErrConflict):
		respond.Error(c, http.StatusConflict, "finding_resolved", "the finding is already resolved")
	case errors.Is(err, models.ErrInvalidSnooze):
		// The store's clock passed until between the check and the write.
		respond.FieldErrors(c, map[string]string{"until": "must be in the future"})
	case err != nil:
		h.storeError(c, err, "finding")
	default:
		c.JSON(http.StatusOK, newFindingView(f, h.store.Now()))
	}
}
