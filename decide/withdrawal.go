// Package decide is the one place where what Coinflow says becomes a change
// of payoutd's record. Every source (a webhook, a page of the withdraw list
// or a single get, the answer to a pay call, and later a replay) only
// normalises what it heard into evidence: a Withdrawal about one payout, a
// Verification about one withdrawer. Payout and Withdrawer are pure
// functions from the current record and the evidence to a decision (the new
// record, its history rows, the findings to raise and to resolve), which the
// store persists whole in the caller's transaction (models.Store.PayoutWrite
// and WithdrawerWrite). The same evidence from any source, in any order and
// any number of times, leaves the same record.
package decide

import (
	"time"

	"github.com/payoutd/payoutd/models"
)

// Withdrawal is what Coinflow says about one withdrawal. Zero fields are
// things the source did not say.
type Withdrawal struct {
	// Source is who heard it. A reconcile Withdrawal is Coinflow's record as
	// it stands now (a list page or a single get); a webhook is an event
	// that happened at At; an api Withdrawal is what initiation learned from
	// the quote and pay calls.
	Source models.Source
	// InboxEventID is the stored webhook behind it, if any.
	InboxEventID *int64

	Transaction    string
	IdempotencyKey string
	UserID         string
	// Status is "" when Coinflow's status is one this version does not
	// know: the fields are still merged, the status is left alone.
	Status models.PayoutStatus
	Detail string
	// CoinflowStatus is Coinflow's own word for the status, shown in
	// findings ("pending", "failed"); Status when empty.
	CoinflowStatus string
	// At is when the evidence says the status happened.
	At time.Time
	// CreatedAt is when Coinflow created the withdrawal (discovery).
	CreatedAt time.Time

	Amount         models.Money // Currency "" when not said
	UserFees       models.Money // Currency "" when not said
	MerchantFees   models.Money // Currency "" when not said
	EffectiveSpeed string
	ExpectedAt     *time.Time
	TransferID     string
	ReturnStatus   string
	ReturnedAt     *time.Time
	// WalletDebit is what the payout costs the USD wallet in cents (amount
	// in USD plus merchant fees), nil when not said; ExchangeRate is
	// Coinflow's usdToForeignExchangeRate, "" when not said.
	WalletDebit  *int64
	ExchangeRate string
}

// record reports whether w is Coinflow's record as it stands now rather than
// an event: only a record can disagree with payoutd (a status behind ours,
// another amount), and only a record raises missing_locally for a payout
// payoutd did not initiate (any source discovers one).
func (w *Withdrawal) record() bool { return w.Source == models.SourceReconcile }

// event reports whether w is a webhook (or its replay): its fees are
// written with the status it carries, never over a newer one.
func (w *Withdrawal) event() bool { return w.Source == models.SourceWebhook }

func (w *Withdrawal) coinflowStatus() string {
	if w.CoinflowStatus != "" {
		return w.CoinflowStatus
	}
	return string(w.Status)
}

func (w *Withdrawal) evidence() models.PayoutEvidence {
	return models.PayoutEvidence{Status: w.Status, Detail: w.Detail, At: w.At.UTC().Truncate(time.Microsecond), Source: w.Source}
}
