package dashboard

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
)

var payoutStatuses = []models.PayoutStatus{
	models.StatusRequested, models.StatusUnknown, models.StatusPending,
	models.StatusInReview, models.StatusCompleted, models.StatusFailed,
}

type payoutsData struct {
	Filter   models.PayoutFilter
	Statuses []models.PayoutStatus
	Payouts  []models.Payout
	Next     string
	Searched bool // any filter was given
}

func (h *handler) payouts(c *gin.Context) {
	// A payout id goes straight to its page.
	if id := strings.TrimSpace(c.Query("id")); id != "" {
		c.Redirect(http.StatusSeeOther, "/payouts/"+url.PathEscape(id))
		return
	}
	f := models.PayoutFilter{
		Status:         models.PayoutStatus(c.Query("status")),
		UserID:         strings.TrimSpace(c.Query("user_id")),
		Transaction:    strings.TrimSpace(c.Query("transaction")),
		IdempotencyKey: strings.TrimSpace(c.Query("idempotency_key")),
		Page:           models.Page{Limit: pageSize, Cursor: c.Query("cursor")},
	}
	if f.Status != "" && !f.Status.Valid() {
		h.fail(c, http.StatusBadRequest, "Unknown filter", "The status filter has a value this dashboard does not know.", "/payouts")
		return
	}
	ps, next, err := h.store.PayoutList(c.Request.Context(), f)
	if err != nil {
		h.storeError(c, err, "payout", "/payouts")
		return
	}
	q := url.Values{
		"status": {string(f.Status)}, "user_id": {f.UserID}, "transaction": {f.Transaction},
		"idempotency_key": {f.IdempotencyKey},
	}
	d := payoutsData{
		Filter: f, Statuses: payoutStatuses, Payouts: ps,
		Searched: f.Status != "" || f.UserID != "" || f.Transaction != "" || f.IdempotencyKey != "",
	}
	if next != "" {
		d.Next = withQuery("/payouts", cloneWith(q, "cursor", next))
	}
	h.render(c, http.StatusOK, "payouts", view{Title: "Payouts", Active: "payouts", Data: d})
}

type payoutData struct {
	Payout   *models.Payout
	History  []models.PayoutHistory
	Findings []models.Finding
	Self     string
	Acked    string
}

// maxPayoutFindings bounds the findings shown on a payout's page.
const maxPayoutFindings = 100

func (h *handler) payout(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := h.store.PayoutGet(ctx, c.Param("id"))
	if err != nil {
		h.storeError(c, err, "payout", "/payouts")
		return
	}
	hist, err := h.store.PayoutHistoryList(ctx, p.ID)
	if err != nil {
		h.storeError(c, err, "payout", "/payouts")
		return
	}
	fs, _, err := h.store.FindingList(ctx, models.FindingFilter{PayoutID: p.ID, Page: models.Page{Limit: maxPayoutFindings}})
	if err != nil {
		h.storeError(c, err, "payout", "/payouts")
		return
	}
	d := payoutData{Payout: p, History: hist, Findings: fs, Self: "/payouts/" + url.PathEscape(p.ID), Acked: h.ackedNotice(ctx, c.Query("acked"))}
	h.render(c, http.StatusOK, "payout", view{Title: "Payout " + shortID(p.ID), Active: "payouts", Data: d})
}
