package dashboard

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
)

var payoutStatuses = []models.PayoutStatus{
	models.StatusRequested, models.StatusUnknown, models.StatusPending,
	models.StatusInReview, models.StatusCompleted, models.StatusFailed,
}

type payoutsData struct {
	Filter   models.PayoutFilter
	Status   choiceField
	Payouts  []models.Payout
	Next     string
	Searched bool // any filter was given
}

func (h *handler) payouts(c *gin.Context) {
	// A payout id goes straight to its page.
	if jumpTo(c, "id", "/payouts/") {
		return
	}
	l := newListing(c, "/payouts", "payout", "status", "user_id", "transaction", "idempotency_key")
	f := models.PayoutFilter{
		Status: models.PayoutStatus(l.get("status")), UserID: l.get("user_id"),
		Transaction: l.get("transaction"), IdempotencyKey: l.get("idempotency_key"),
	}
	if !known(f.Status, payoutStatuses) {
		h.badFilter(c, l)
		return
	}
	ps, next, ok := listPage(h, c, l, func(ctx context.Context, p models.Page) ([]models.Payout, string, error) {
		f.Page = p
		return h.store.PayoutList(ctx, f)
	})
	if !ok {
		return
	}
	d := payoutsData{
		Filter: f, Status: choice("Status", "status", f.Status, payoutStatuses), Payouts: ps, Next: next,
		Searched: l.filtered(),
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
