package models

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// FindingKind is one of the kinds of SPEC.md.
type FindingKind string

// Finding kinds.
const (
	KindStatusMismatch       FindingKind = "status_mismatch"
	KindMissingLocally       FindingKind = "missing_locally"
	KindMissingAtCoinflow    FindingKind = "missing_at_coinflow"
	KindAmountMismatch       FindingKind = "amount_mismatch"
	KindSpeedMismatch        FindingKind = "speed_mismatch"
	KindStuckPayout          FindingKind = "stuck_payout"
	KindUnverifiedWithdrawer FindingKind = "unverified_withdrawer"
	KindWalletLowBalance     FindingKind = "wallet_low_balance"
	KindWalletDrift          FindingKind = "wallet_drift"
	KindWebhookUnprocessable FindingKind = "webhook_unprocessable"
	KindKYCStalled           FindingKind = "kyc_stalled"
	KindWebhookHeaderAuth    FindingKind = "webhook_header_auth"
	KindWebhookUndelivered   FindingKind = "webhook_undelivered"
)

// FindingKinds returns every kind payoutd raises, in SPEC's order: the
// one list the API's filter, the dashboard's and the metrics use.
func FindingKinds() []FindingKind {
	return []FindingKind{
		KindStatusMismatch, KindMissingLocally, KindMissingAtCoinflow, KindAmountMismatch, KindSpeedMismatch,
		KindStuckPayout, KindUnverifiedWithdrawer, KindWalletLowBalance, KindWalletDrift, KindWebhookUnprocessable,
		KindKYCStalled, KindWebhookHeaderAuth, KindWebhookUndelivered,
	}
}

// Severity of a finding.
type Severity string

// Severities, least to most severe.
const (
	SeverityInfo    Severity = "info"
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// FindingStatus is a finding's place in its lifecycle.
type FindingStatus string

// Finding statuses.
const (
	FindingOpen         FindingStatus = "open"
	FindingAcknowledged FindingStatus = "acknowledged"
	FindingResolved     FindingStatus = "resolved"
	// FindingSnoozed is a filter, never a stored status: the unresolved
	// findings whose snooze has not ended. A snoozed finding keeps its
	// status (open or acknowledged) and is left out of those filters.
	FindingSnoozed FindingStatus = "snoozed"
)

// Details is a finding's free-form JSON object.
type Details map[string]any

// Value stores Details as JSON text.
func (d Details) Value() (driver.Value, error) {
	if d == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]any(d))
	return string(b), err
}

// Scan reads Details from JSON text.
func (d *Details) Scan(src any) error {
	b, err := jsonText(src, "details")
	if err != nil {
		return err
	}
	m := map[string]any{}
	if b == nil {
		*d = m
		return nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("scan details: %w", err)
	}
	*d = m
	return nil
}

// Finding is one thing that does not add up, identified by (Kind, Subject):
// at most one unresolved finding exists per identity.
type Finding struct {
	ID             string `gorm:"primaryKey"`
	Kind           FindingKind
	Subject        string // the payout id, user id, inbox event id... the kind decides
	Severity       Severity
	Status         FindingStatus
	PayoutID       *string
	UserID         *string
	Details        Details `gorm:"type:text"`
	FirstSeenAt    time.Time
	LastSeenAt     time.Time
	ResolvedAt     *time.Time
	AcknowledgedAt *time.Time
	AcknowledgedBy *string
	AckNote        *string
	FirstRunID     *string // the reconciliation run that opened it, if one did
	LastRunID      *string // the last run that saw its condition
	ResolvedRunID  *string // the run that resolved it
	// SnoozedUntil hides an unresolved finding from the open list, the
	// overview's counts and alert reminders until then (migration 009).
	// SnoozeNote says why, SnoozedBy who, SnoozedAt when. The columns are
	// kept after the snooze ends or the finding resolves; Snoozed says
	// whether it is in effect.
	SnoozedUntil *time.Time
	SnoozeNote   *string
	SnoozedBy    *string
	SnoozedAt    *time.Time
}

// Snoozed reports whether the finding is snoozed at now: unresolved, with
// a snooze that ends after now. A resolved finding is never snoozed.
func (f *Finding) Snoozed(now time.Time) bool {
	return f.ResolvedAt == nil && f.SnoozedUntil != nil && f.SnoozedUntil.After(now)
}

// ErrInvalidFinding is returned for a finding without kind, subject or severity.
var ErrInvalidFinding = errors.New("invalid finding")
