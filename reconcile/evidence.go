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
	ev.ExchangeRate, ev.WalletDebit = walletDebit(w, ev.MerchantFees)
	return ev
}

// walletDebit is what the withdraw cost the USD wallet: its amount in USD
// at Coinflow's rate (coinflow.USDDebit, the one place the rounding is
// chosen) plus the merchant's fees in USD. Nothing when the record does not
// say enough to know it (no rate for a foreign amount, fees in another
// currency, a sum beyond int64).
func walletDebit(w *coinflow.Withdraw, merchantFees models.Money) (string, *int64) {
	rate := "" // a USD payout has no rate worth showing (nor worth parsing)
	if w.Amount.Currency != "USD" {
		var ok bool
		if rate, ok = w.ExchangeRate(); !ok {
			return "", nil
		}
	}
	usd, err := coinflow.USDDebit(w.Amount, w.UsdToForeignExchangeRate)
	if err != nil || (merchantFees.Currency != "" && merchantFees.Currency != "USD") {
		return rate, nil
	}
	total, err := models.AddCents(usd, merchantFees.Cents)
	if err != nil {
		return rate, nil
	}
	return rate, &total
}
