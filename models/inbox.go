package models

import "time"

// InboxStatus is where a stored webhook stands in processing.
type InboxStatus string

// Inbox statuses.
const (
	InboxPending       InboxStatus = "pending"       // committed, not yet applied
	InboxApplied       InboxStatus = "applied"       // applied to payouts or withdrawers
	InboxIgnored       InboxStatus = "ignored"       // authentic, of a type payoutd does not track
	InboxUnprocessable InboxStatus = "unprocessable" // authentic, but no retry could make sense of it
	InboxParked        InboxStatus = "parked"        // failed to apply too many times
)

// InboxEvent is one authentic webhook exactly as received. DedupKey, derived
// from what identifies the event, is unique forever: a retried or re-signed
// delivery of the same event is the same row.
type InboxEvent struct {
	ID            int64 `gorm:"primaryKey;autoIncrement"`
	DedupKey      string
	EventType     string
	Body          []byte
	ReceivedAt    time.Time
	Status        InboxStatus
	Attempts      int
	NextAttemptAt time.Time
	LastError     *string
	ProcessedAt   *time.Time
	// ContentHash names what the event said that matters (amounts, fees,
	// user, idempotency key); nil for a body that is not a readable event.
	ContentHash *string
	// ConflictsWith is the copy stored first under the same event identity
	// when this redelivery says something else: both are kept, and applying
	// this one raises a finding.
	ConflictsWith *int64
}
