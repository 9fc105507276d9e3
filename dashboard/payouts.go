package dashboard

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

var payoutStatuses = []models.PayoutStatus{
	models.StatusRequested, models.StatusUnknown, models.StatusPending,
	models.StatusInReview, models.StatusCompleted, models.StatusFailed,
}

type payoutsData struct {
	Filter   models.PayoutFilter
	Status   choiceField
	Speed    choiceField
	Stuck    choiceField
	From, To string // as the query gave them
	Payouts  []models.Payout
	Next     string
	Searched bool // any filter was given
}

// The payouts list takes the filters of GET /api/v1/payouts, with the
// API's rules (models.PayoutStatus.Valid, rail.Valid, stuck true or false);
// from and to are the dashboard's days (see timeRange).
func (h *handler) payouts(c *gin.Context) {
	// A payout id goes straight to its page.
	if jumpTo(c, "id", "/payouts/") {
		return
	}
	l := newListing(c, "/payouts", "payout", "status", "user_id", "speed", "transaction", "idempotency_key", "stuck", "from", "to")
	l.strict(c, "id")
	f := models.PayoutFilter{
		Status: oneOf(&l, "status", models.PayoutStatus.Valid, payoutStatuses),
		UserID: l.get("user_id"), Speed: oneOf(&l, "speed", rail.Valid, rail.Speeds()),
		Transaction: l.get("transaction"), IdempotencyKey: l.get("idempotency_key"), Stuck: l.flag("stuck"),
	}
	f.From, f.To = l.timeRange()
	if h.rejected(c, l) {
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
		Filter: f, Status: choice("Status", "status", f.Status, payoutStatuses),
		Speed: choice("Speed", "speed", f.Speed, rail.Speeds()),
		Stuck: choiceField{Label: "Stuck", Name: "stuck", Options: []choiceOption{{Value: "true", Text: "stuck only", Selected: f.Stuck}}},
		From:  l.get("from"), To: l.get("to"),
		Payouts: ps, Next: next, Searched: l.filtered(),
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
