package api

import (
	"time"

	"github.com/payoutd/payoutd/models"
)

// payoutView is a payout as SPEC.md shows it.
type payoutView struct {
	ID             string              `json:"id"`
	IdempotencyKey *string             `json:"idempotency_key"`
	UserID         string              `json:"user_id"`
	Amount         models.Money        `json:"amount"`
	RequestedSpeed *string             `json:"requested_speed"`
	EffectiveSpeed *string             `json:"effective_speed"`
	Status         models.PayoutStatus `json:"status"`
	StatusDetail   *string             `json:"status_detail"`
	ReturnStatus   *string             `json:"return_status"`
	Coinflow       coinflowRef         `json:"coinflow"`
	Fees           feesView            `json:"fees"`
	// WalletDebit is what the payout costs the USD wallet and ExchangeRate
	// the rate Coinflow priced a foreign amount at, once known.
	WalletDebit        *models.Money `json:"wallet_debit,omitempty"`
	ExchangeRate       *string       `json:"exchange_rate,omitempty"`
	ExpectedDeliveryAt *time.Time    `json:"expected_delivery_at"`
	CreatedAt          time.Time     `json:"created_at"`
	UpdatedAt          time.Time     `json:"updated_at"`
	Source             models.Origin `json:"source"`
	History            []historyView `json:"history,omitempty"`
}

type coinflowRef struct {
	Transaction *string `json:"transaction"`
	TransferID  *string `json:"transfer_id"`
}

type feesView struct {
	User     models.Money `json:"user"`
	Merchant models.Money `json:"merchant"`
}

type historyView struct {
	FromStatus   *string       `json:"from_status"`
	ToStatus     string        `json:"to_status"`
	FromDetail   *string       `json:"from_detail,omitempty"`
	ToDetail     *string       `json:"to_detail,omitempty"`
	Applied      bool          `json:"applied"`
	Reason       string        `json:"reason"`
	Source       models.Source `json:"source"`
	InboxEventID *int64        `json:"inbox_event_id,omitempty"`
	// Changes are the fields the evidence changed beside the status, as
	// field to [old, new].
	Changes    models.Changes `json:"changes,omitempty"`
	EvidenceAt time.Time      `json:"evidence_at"`
	RecordedAt time.Time      `json:"recorded_at"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func newPayoutView(p *models.Payout, history []models.PayoutHistory) payoutView {
	v := payoutView{
		ID: p.ID, IdempotencyKey: p.IdempotencyKey, UserID: p.UserID, Amount: p.Amount,
		RequestedSpeed: p.RequestedSpeed, EffectiveSpeed: p.EffectiveSpeed, Status: p.Status,
		StatusDetail: p.StatusDetail, ReturnStatus: p.ReturnStatus,
		Coinflow:           coinflowRef{Transaction: p.CoinflowTransaction, TransferID: p.CoinflowTransferID},
		Fees:               feesView{User: p.UserFees, Merchant: p.MerchantFees},
		ExpectedDeliveryAt: utcPtr(p.ExpectedDeliveryAt), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
		Source: p.Source, ExchangeRate: p.ExchangeRate,
	}
	if p.WalletDebitCents != nil {
		v.WalletDebit = &models.Money{Cents: *p.WalletDebitCents, Currency: "USD"}
	}
	for _, h := range history {
		v.History = append(v.History, historyView{
			FromStatus: h.FromStatus, ToStatus: h.ToStatus, FromDetail: h.FromDetail, ToDetail: h.ToDetail,
			Applied: h.Applied, Reason: h.Reason, Source: h.Source, InboxEventID: h.InboxEventID, Changes: h.Changes,
			EvidenceAt: h.EvidenceAt.UTC(), RecordedAt: h.CreatedAt.UTC(),
		})
	}
	return v
}

type withdrawerView struct {
	UserID             string                    `json:"user_id"`
	Wallet             string                    `json:"wallet"`
	Blockchain         string                    `json:"blockchain"`
	Email              string                    `json:"email"` // masked
	VerificationStatus models.VerificationStatus `json:"verification_status"`
	VerificationAt     time.Time                 `json:"verification_at"`
	// VerificationLink is Coinflow's hosted verification page, while
	// verification is pending.
	VerificationLink *string                 `json:"verification_link"`
	Blocked          bool                    `json:"blocked"`
	Country          *string                 `json:"country"`
	PayoutCurrency   *string                 `json:"payout_currency"`
	Destinations     []destinationView       `json:"destinations"`
	LastSyncedAt     *time.Time              `json:"last_synced_at"`
	CreatedAt        time.Time               `json:"created_at"`
	UpdatedAt        time.Time               `json:"updated_at"`
	History          []withdrawerHistoryView `json:"history"`
}

// destinationView is a saved destination: Coinflow's token (what a payout's
// account takes), never the number behind it.
type destinationView struct {
	Token     string     `json:"token"`
	Type      string     `json:"type"`
	Currency  string     `json:"currency"`
	Last4     string     `json:"last4"`
	Speeds    []string   `json:"speeds"`
	Deleted   bool       `json:"deleted"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

func newDestinationView(d *models.Destination) destinationView {
	speeds := d.SpeedList()
	if speeds == nil {
		speeds = []string{}
	}
	return destinationView{
		Token: d.Token, Type: d.Kind, Currency: d.Currency, Last4: d.Last4, Speeds: speeds,
		Deleted: d.DeletedAt != nil, DeletedAt: utcPtr(d.DeletedAt), CreatedAt: d.CreatedAt.UTC(),
	}
}

type withdrawerHistoryView struct {
	FromStatus *string        `json:"from_status"`
	ToStatus   string         `json:"to_status"`
	Applied    bool           `json:"applied"`
	Reason     string         `json:"reason"`
	Source     models.Source  `json:"source"`
	Changes    models.Changes `json:"changes,omitempty"`
	EvidenceAt time.Time      `json:"evidence_at"`
	RecordedAt time.Time      `json:"recorded_at"`
}

func newWithdrawerView(w *models.Withdrawer, dests []models.Destination, history []models.WithdrawerHistory) withdrawerView {
	v := withdrawerView{
		UserID: w.UserID, Wallet: w.Wallet, Blockchain: w.Blockchain, Email: w.EmailMasked,
		VerificationStatus: w.VerificationStatus, VerificationAt: w.VerificationAt.UTC(), Blocked: w.Blocked,
		Country: w.Country, PayoutCurrency: w.Currency, Destinations: []destinationView{},
		LastSyncedAt: utcPtr(w.LastSyncedAt), CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC(),
		History: []withdrawerHistoryView{},
	}
	if w.VerificationStatus == models.VerificationPending {
		v.VerificationLink = w.VerificationLink
	}
	for i := range dests {
		v.Destinations = append(v.Destinations, newDestinationView(&dests[i]))
	}
	for _, h := range history {
		v.History = append(v.History, withdrawerHistoryView{
			FromStatus: h.FromStatus, ToStatus: h.ToStatus, Applied: h.Applied, Reason: h.Reason,
			Source: h.Source, Changes: h.Changes, EvidenceAt: h.EvidenceAt.UTC(), RecordedAt: h.CreatedAt.UTC(),
		})
	}
	return v
}

// findingView is a finding as SPEC.md shows it.
type findingView struct {
	ID             string               `json:"id"`
	Kind           models.FindingKind   `json:"kind"`
	Severity       models.Severity      `json:"severity"`
	Status         models.FindingStatus `json:"status"`
	Subject        string               `json:"subject"`
	PayoutID       *string              `json:"payout_id"`
	UserID         *string              `json:"user_id"`
	Details        models.Details       `json:"details"`
	FirstSeenAt    time.Time            `json:"first_seen_at"`
	LastSeenAt     time.Time            `json:"last_seen_at"`
	ResolvedAt     *time.Time           `json:"resolved_at"`
	AcknowledgedAt *time.Time           `json:"acknowledged_at"`
	AcknowledgedBy *string              `json:"acknowledged_by"`
	Note           *string              `json:"note"`
	// The snooze in effect at the store's clock; all three null when the
	// finding is not snoozed (never snoozed, the snooze ended, or resolved).
	SnoozedUntil *time.Time `json:"snoozed_until"`
	SnoozeNote   *string    `json:"snooze_note"`
	SnoozedBy    *string    `json:"snoozed_by"`
}

// newFindingView shows f as it stands at now, the store's clock.
func newFindingView(f *models.Finding, now time.Time) findingView {
	v := findingView{
		ID: f.ID, Kind: f.Kind, Severity: f.Severity, Status: f.Status, Subject: f.Subject,
		PayoutID: f.PayoutID, UserID: f.UserID, Details: f.Details,
		FirstSeenAt: f.FirstSeenAt.UTC(), LastSeenAt: f.LastSeenAt.UTC(), ResolvedAt: utcPtr(f.ResolvedAt),
		AcknowledgedAt: utcPtr(f.AcknowledgedAt), AcknowledgedBy: f.AcknowledgedBy, Note: f.AckNote,
	}
	if f.Snoozed(now) {
		v.SnoozedUntil, v.SnoozeNote, v.SnoozedBy = utcPtr(f.SnoozedUntil), f.SnoozeNote, f.SnoozedBy
	}
	return v
}
