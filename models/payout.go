package models

import "time"

// PayoutStatus is where a payout stands. See transition.go for the order.
type PayoutStatus string

// The payout statuses of SPEC.md.
const (
	StatusRequested PayoutStatus = "requested" // recorded here, Coinflow not yet called
	StatusUnknown   PayoutStatus = "unknown"   // the pay call's outcome is not known
	StatusPending   PayoutStatus = "pending"
	StatusInReview  PayoutStatus = "in_review"
	StatusCompleted PayoutStatus = "completed"
	StatusFailed    PayoutStatus = "failed"
)

// Valid reports whether s is one of the statuses above.
func (s PayoutStatus) Valid() bool {
	_, ok := statusRank[s]
	return ok
}

// Terminal reports whether s ends the payout (a later terminal event may
// still replace it: a bank return, a manual success).
func (s PayoutStatus) Terminal() bool { return s == StatusCompleted || s == StatusFailed }

// Status details refine a status without adding one to SPEC's list.
const (
	DetailUnclaimed = "unclaimed" // PayPal/Venmo: waiting for the recipient (status pending)
	DetailOnHold    = "on_hold"   // PayPal/Venmo: held by the provider (status in_review)
	// IBAN rail events (Coinflow's "Iban RFI Created", "Iban RFI Submitted",
	// "Iban Failure"): the bank asked for information before paying out
	// (in_review), the information was sent and the bank has not yet
	// answered (still in_review), the IBAN payout failed (failed).
	DetailRFIRequested = "rfi_requested"
	DetailRFISubmitted = "rfi_submitted"
	DetailIBANFailure  = "iban_failure"
)

// Origin says where payoutd first learned of a payout.
type Origin string

// Payout origins (the "source" field of the API's payout).
const (
	OriginAPI        Origin = "api"        // initiated through POST /api/v1/payouts
	OriginDiscovered Origin = "discovered" // first seen in a webhook or at Coinflow
)

// Source names who supplied the evidence behind a state change.
type Source string

// Evidence sources, written on every history row.
const (
	SourceWebhook   Source = "webhook"
	SourceAPI       Source = "api"
	SourceReconcile Source = "reconcile"
)

// Payout is payoutd's record of one Coinflow payout.
type Payout struct {
	ID                  string  `gorm:"primaryKey"`
	IdempotencyKey      *string // unique when set
	UserID              string
	Amount              Money `gorm:"embedded;embeddedPrefix:amount_"`
	RequestedSpeed      *string
	EffectiveSpeed      *string
	Status              PayoutStatus
	StatusDetail        *string
	StatusAt            time.Time // when the evidence behind Status says it happened
	ReturnStatus        *string
	CoinflowTransaction *string // Coinflow's transaction signature; unique when set
	CoinflowTransferID  *string
	AccountToken        *string // destination token; never logged or shown
	UserFees            Money   `gorm:"embedded;embeddedPrefix:user_fees_"`
	MerchantFees        Money   `gorm:"embedded;embeddedPrefix:merchant_fees_"`
	ExpectedDeliveryAt  *time.Time
	Source              Origin
	// RequestFingerprint hashes the initiation request behind the
	// idempotency key, so a reused key with another body is refused.
	RequestFingerprint   *string
	InitiationLeaseUntil *time.Time // who drives the payout to Coinflow, until when
	ReturnedAt           *time.Time // when a return of its funds completed
	// WalletDebitCents is what the payout costs the USD wallet: the amount
	// in USD plus the merchant's fees; nil until Coinflow has priced it.
	WalletDebitCents *int64
	// ExchangeRate is Coinflow's usdToForeignExchangeRate for the payout
	// (USD per unit of its currency), as Coinflow wrote it.
	ExchangeRate *string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// State is the part of the payout that the transition function orders.
func (p *Payout) State() PayoutState {
	return PayoutState{Status: p.Status, Detail: Deref(p.StatusDetail), At: p.StatusAt}
}

// PayoutHistory is one piece of evidence about a payout and what it did:
// Applied is false for evidence that was recorded but changed nothing (a late
// older event, a duplicate).
type PayoutHistory struct {
	ID           int64 `gorm:"primaryKey;autoIncrement"`
	PayoutID     string
	FromStatus   *string
	ToStatus     string
	FromDetail   *string
	ToDetail     *string
	Applied      bool
	Reason       string
	Source       Source
	InboxEventID *int64 // the webhook behind it; unique, so one event applies once
	EvidenceAt   time.Time
	Changes      Changes `gorm:"type:text"` // fields changed beside the status
	CreatedAt    time.Time
}

// TableName keeps the table name singular-noun style used in the migrations.
func (PayoutHistory) TableName() string { return "payout_history" }

// Deref is the value of a nullable text column, "" for NULL.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// NonEmpty returns nil for "" and a pointer otherwise, for nullable text
// columns.
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
