package models

import (
	"time"
	"unicode/utf8"
)

// Withdrawer is a merchant user who receives payouts, as payoutd last knew it.
type Withdrawer struct {
	UserID             string `gorm:"primaryKey"`
	Wallet             string
	Blockchain         string
	EmailMasked        string // e.g. "a***@example.com"; the full address is never kept
	VerificationStatus VerificationStatus
	VerificationAt     time.Time // when the evidence behind VerificationStatus says it happened
	Blocked            bool
	LastSyncedAt       *time.Time // last reconciliation against Coinflow's API
	Country            *string    // ISO 3166 alpha-2 of the verification, when known
	Currency           *string    // the payout currency Coinflow set from the country
	// VerificationLink is Coinflow's hosted verification page, kept while
	// verification is pending and cleared when it ends.
	VerificationLink *string
	// NextCheckAt and Checks pace the polling of a pending withdrawer; they
	// are scheduling, not evidence, and no decision writes them.
	NextCheckAt *time.Time
	Checks      int
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WithdrawerHistory is one piece of evidence about a withdrawer's verification.
type WithdrawerHistory struct {
	ID           int64 `gorm:"primaryKey;autoIncrement"`
	UserID       string
	FromStatus   *string
	ToStatus     string
	Applied      bool
	Reason       string
	Source       Source
	InboxEventID *int64
	EvidenceAt   time.Time
	Changes      Changes `gorm:"type:text"` // fields changed beside the status (blocked)
	CreatedAt    time.Time
}

// TableName matches the migrations.
func (WithdrawerHistory) TableName() string { return "withdrawer_history" }

// MaskEmail keeps the first character of the local part and the domain.
func MaskEmail(email string) string {
	at := -1
	for i := len(email) - 1; i >= 0; i-- {
		if email[i] == '@' {
			at = i
			break
		}
	}
	if at <= 0 {
		return "***"
	}
	_, size := utf8.DecodeRuneInString(email)
	return email[:size] + "***" + email[at:]
}
