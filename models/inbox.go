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
	// AuthMethod is how the delivery was authenticated (AuthSignature or
	// AuthAuthorization) and AuthKey with which key (AuthKeyCurrent or
	// AuthKeyPrevious, during a key rotation); nil for events stored before
	// payoutd recorded it.
	AuthMethod *string
	AuthKey    *string
	// SubjectTransaction and SubjectUserID are the withdrawal and the user
	// the event names, for the event log's filters; nil when it names none.
	SubjectTransaction *string
	SubjectUserID      *string
	// BodyPrunedAt is when retention cleared Body; the row, its dedup key
	// and state stay.
	BodyPrunedAt *time.Time
}

// How a stored webhook was authenticated.
const (
	AuthSignature     = "signature"     // the Coinflow-Signature header verified
	AuthAuthorization = "authorization" // the Authorization header equalled the key
	AuthKeyCurrent    = "current"       // coinflow.webhook_key
	AuthKeyPrevious   = "previous"      // coinflow.webhook_previous_key
)

// EventReplay is one replay of a stored webhook: who asked, when, and what
// it did once done.
type EventReplay struct {
	ID           int64 `gorm:"primaryKey;autoIncrement"`
	InboxEventID int64
	ReplayedBy   string
	RequestedAt  time.Time
	Outcome      *string
	FinishedAt   *time.Time
}
