package testserver

import (
	"time"

	"github.com/payoutd/payoutd/models"
)

// The API's answers as a client reads them, declared here rather than taken
// from package api so that a test decodes the wire format and not the
// server's own structs. Times a test compares to the letter (created_at,
// evidence_at, verification_at) stay strings; pointers mark fields a test
// requires to be present or null.

// Payout is a payout as GET /api/v1/payouts/{id} and the payout lists show
// it.
type Payout struct {
	ID             string       `json:"id"`
	IdempotencyKey *string      `json:"idempotency_key"`
	UserID         string       `json:"user_id"`
	Amount         models.Money `json:"amount"`
	RequestedSpeed *string      `json:"requested_speed"`
	EffectiveSpeed *string      `json:"effective_speed"`
	Status         string       `json:"status"`
	StatusDetail   *string      `json:"status_detail"`
	Coinflow       struct {
		Transaction *string `json:"transaction"`
	} `json:"coinflow"`
	Fees struct {
		User     models.Money `json:"user"`
		Merchant models.Money `json:"merchant"`
	} `json:"fees"`
	ExpectedDeliveryAt *time.Time      `json:"expected_delivery_at"`
	CreatedAt          string          `json:"created_at"`
	Source             string          `json:"source"`
	History            []PayoutHistory `json:"history"`
}

// PayoutHistory is one row of a payout's history.
type PayoutHistory struct {
	FromStatus *string `json:"from_status"`
	ToStatus   string  `json:"to_status"`
	Applied    bool    `json:"applied"`
	Reason     string  `json:"reason"`
	Source     string  `json:"source"`
	EvidenceAt string  `json:"evidence_at"`
}

// PayoutPage is a page of GET /api/v1/payouts.
type PayoutPage struct {
	Payouts    []Payout `json:"payouts"`
	NextCursor string   `json:"next_cursor"`
}

// Withdrawer is a withdrawer as GET /api/v1/withdrawers/{user_id} shows it.
type Withdrawer struct {
	UserID             string  `json:"user_id"`
	Wallet             string  `json:"wallet"`
	Blockchain         string  `json:"blockchain"`
	Email              string  `json:"email"`
	VerificationStatus string  `json:"verification_status"`
	VerificationAt     string  `json:"verification_at"`
	Blocked            *bool   `json:"blocked"`
	LastSyncedAt       *string `json:"last_synced_at"`
	History            []struct {
		ToStatus string `json:"to_status"`
		Applied  bool   `json:"applied"`
		Reason   string `json:"reason"`
		Source   string `json:"source"`
	} `json:"history"`
}
