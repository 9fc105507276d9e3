package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/models"
)

// The withdrawer filter choices, in the order the form lists them.
var (
	verificationStatuses = []models.VerificationStatus{
		models.VerificationPending, models.VerificationPartialApproval, models.VerificationApproved,
		models.VerificationRejected, models.VerificationExpired,
	}
	blockedChoices = []string{"yes", "no"}
)

type withdrawersData struct {
	Status, Blocked choiceField
	Withdrawers     []models.Withdrawer
	Next            string
	Searched        bool // any filter was given
}

func (h *handler) withdrawers(c *gin.Context) {
	if jumpTo(c, "user_id", "/withdrawers/") {
		return
	}
	l := newListing(c, "/withdrawers", "withdrawer", "status", "blocked")
	l.strict(c, "user_id")
	f := models.WithdrawerFilter{Status: oneOf(&l, "status", func(s models.VerificationStatus) bool { return slices.Contains(verificationStatuses, s) }, verificationStatuses)}
	blocked := oneOf(&l, "blocked", func(s string) bool { return slices.Contains(blockedChoices, s) }, blockedChoices)
	if h.rejected(c, l) {
		return
	}
	if blocked != "" {
		b := blocked == "yes"
		f.Blocked = &b
	}
	ws, next, ok := listPage(h, c, l, func(ctx context.Context, p models.Page) ([]models.Withdrawer, string, error) {
		f.Page = p
		return h.store.WithdrawerList(ctx, f)
	})
	if !ok {
		return
	}
	d := withdrawersData{
		Status:      choice("Verification", "status", f.Status, verificationStatuses),
		Blocked:     choice("Blocked", "blocked", blocked, blockedChoices),
		Withdrawers: ws, Next: next, Searched: l.filtered(),
	}
	h.render(c, http.StatusOK, "withdrawers", view{Title: "Withdrawers", Active: "withdrawers", Data: d})
}

type withdrawerData struct {
	Withdrawer   *models.Withdrawer
	History      []models.WithdrawerHistory
	Destinations []models.Destination
	Payouts      []models.Payout // the newest
	MorePayouts  bool            // there are more than Payouts
	AllPayouts   string          // the payouts list of the user
}

// maxWithdrawerPayouts bounds the payouts shown on a withdrawer's page; the
// payouts list, filtered by the user, has them all.
const maxWithdrawerPayouts = 50

func (h *handler) withdrawer(c *gin.Context) {
	ctx := c.Request.Context()
	w, err := h.store.WithdrawerGet(ctx, c.Param("user_id"))
	if err != nil {
		h.storeError(c, err, "withdrawer", "/withdrawers")
		return
	}
	d := withdrawerData{Withdrawer: w, AllPayouts: withQuery("/payouts", url.Values{"user_id": {w.UserID}})}
	if d.History, err = h.store.WithdrawerHistoryList(ctx, w.UserID); err == nil {
		d.Destinations, err = h.store.DestinationsOf(ctx, w.UserID)
	}
	if err == nil {
		var next string
		d.Payouts, next, err = h.store.PayoutList(ctx, models.PayoutFilter{UserID: w.UserID, Page: models.Page{Limit: maxWithdrawerPayouts}})
		d.MorePayouts = next != ""
	}
	if err != nil {
		h.storeError(c, err, "withdrawer", "/withdrawers")
		return
	}
	h.render(c, http.StatusOK, "withdrawer", view{Title: "Withdrawer " + w.UserID, Active: "withdrawers", Data: d})
}
