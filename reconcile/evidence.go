package reconcile

import (
	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// coinflowStatus maps a withdraw status to payoutd's; false for one this
// version does not know.
func coinflowStatus(s string) (models.PayoutStatus, bool) {
	switch s {
	case coinflow.WithdrawPending:
		return models.StatusPending, true
	case coinflow.WithdrawInReview:
		return models.StatusInReview, true
	case coinflow.WithdrawCompleted:
		return models.StatusCompleted, true
	case coinflow.WithdrawFailed:
		return models.StatusFailed, true
	}
	return "", false
}

// evidence is what Coinflow's record of a withdraw (a list page or a
// single get) says.
func evidence(w *coinflow.Withdraw) decide.Withdrawal {
	at := w.UpdatedAt
	if at.IsZero() {
		at = w.CreatedAt
	}
	status, _ := coinflowStatus(w.Status)
	userID := w.UserID
	if userID == "" {
		userID = w.Withdrawer.ID
	}
	ev := decide.Withdrawal{
		Source: models.SourceReconcile, Transaction: w.Transaction, IdempotencyKey: w.IdempotencyKey, UserID: userID,
		Status: status, CoinflowStatus: w.Status, At: at, CreatedAt: w.CreatedAt,
		Amount:         models.Money{Cents: w.Amount.Cents, Currency: w.Amount.Currency},
		EffectiveSpeed: w.Speed, ExpectedAt: w.ExpectedDeliveryDate, TransferID: w.TransferID,
		ReturnStatus: w.ReturnStatus, ReturnedAt: w.ReturnedAt,
	}
	if fees, err := w.MerchantPaidFees.Total(); err == nil && fees.Currency != "" {
		ev.MerchantFees = models.Money{Cents: fees.Cents, Currency: fees.Currency}
	}
	if fees, err := w.UserPaidFees.Total(); err == nil && fees.Currency != "" {
		ev.UserFees = models.Money{Cents: fees.Cents, Currency: fees.Currency}
	}
	return ev
}
