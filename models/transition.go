package models

import "time"

// PayoutState is the ordered part of a payout's state.
type PayoutState struct {
	Status PayoutStatus
	Detail string
	At     time.Time
}

// PayoutEvidence is one claim about a payout's state from a source.
type PayoutEvidence struct {
	Status PayoutStatus
	Detail string
	At     time.Time
	Source Source
}

// Transition reasons written to history.
const (
	ReasonCreated         = "created"
	ReasonAdvanced        = "advanced"         // moved forward
	ReasonTerminalChanged = "terminal_changed" // completed <-> failed with newer evidence
	ReasonStale           = "stale"            // older than what is known: recorded, not applied
	ReasonSame            = "same"             // says what is already known
)

// PayoutChange is what Transition decided.
type PayoutChange struct {
	Apply  bool
	Next   PayoutState
	Reason string
	// Conflict is set when the evidence and the current state are different
	// terminal outcomes: money that changed its mind, which finance must see
	// whichever of the two arrived first.
	Conflict bool
}

var statusRank = map[PayoutStatus]int{
	StatusRequested: 0,
	StatusUnknown:   1,
	StatusPending:   2,
	StatusInReview:  3,
	StatusCompleted: 4,
	StatusFailed:    4,
}

// tieOrder breaks ties between equally ranked evidence with the same time,
// so that the outcome never depends on arrival order. A failure wins an exact
// tie with a success: the cautious reading for money.
var tieOrder = map[PayoutStatus]int{StatusCompleted: 0, StatusFailed: 1}

// A submitted RFI orders after the request it answers when both speak of
// the same instant; the details of one status never share a rank.
var detailOrder = map[string]int{
	"": 0, DetailOnHold: 1, DetailUnclaimed: 2, DetailRFIRequested: 3, DetailRFISubmitted: 4, DetailIBANFailure: 5,
}

// after reports whether evidence state a orders strictly after b. The order is
// total: status rank first (a status never moves backwards), then the time
// the evidence speaks of (a newer terminal outcome replaces an older one),
// then fixed tie-breaks. Because it is a total order, applying any
// permutation of the same evidence, with duplicates, ends in the same state.
func after(a, b PayoutState) bool {
	if ra, rb := statusRank[a.Status], statusRank[b.Status]; ra != rb {
		return ra > rb
	}
	if !a.At.Equal(b.At) {
		return a.At.After(b.At)
	}
	if ta, tb := tieOrder[a.Status], tieOrder[b.Status]; ta != tb {
		return ta > tb
	}
	return detailOrder[a.Detail] > detailOrder[b.Detail]
}

// Transition decides what evidence does to a payout in state cur. It is pure:
// the caller persists Next and writes the history row whatever the decision.
func Transition(cur PayoutState, ev PayoutEvidence) PayoutChange {
	next := PayoutState{Status: ev.Status, Detail: ev.Detail, At: ev.At}
	ch := PayoutChange{Next: cur}
	ch.Conflict = cur.Status.Terminal() && ev.Status.Terminal() && cur.Status != ev.Status
	switch {
	case after(next, cur):
		ch.Apply, ch.Next = true, next
		ch.Reason = ReasonAdvanced
		if ch.Conflict {
			ch.Reason = ReasonTerminalChanged
		}
	case next.Status == cur.Status && next.Detail == cur.Detail:
		ch.Reason = ReasonSame
	default:
		ch.Reason = ReasonStale
	}
	return ch
}

// VerificationStatus is a withdrawer's KYC state as Coinflow names it.
type VerificationStatus string

// Coinflow's VerificationStatus values.
const (
	VerificationPending         VerificationStatus = "pending"
	VerificationPartialApproval VerificationStatus = "partial-approval"
	VerificationApproved        VerificationStatus = "approved"
	VerificationRejected        VerificationStatus = "rejected"
	VerificationExpired         VerificationStatus = "expired"
)

var verificationOrder = map[VerificationStatus]int{
	VerificationPending: 0, VerificationPartialApproval: 1, VerificationApproved: 2,
	VerificationExpired: 3, VerificationRejected: 4,
}

// WithdrawerEvidence is one claim about a withdrawer's verification.
type WithdrawerEvidence struct {
	Status VerificationStatus
	At     time.Time
	Source Source
}

// VerificationNewer reports whether evidence (status at time at) should
// replace the known state (cur at curAt). Verification is not monotonic (a
// rejected user may retry and pass; approval may expire), so the newest
// evidence wins, with a fixed tie-break so that arrival order never matters.
func VerificationNewer(cur VerificationStatus, curAt time.Time, ev WithdrawerEvidence) bool {
	if cur == "" {
		return true
	}
	if !ev.At.Equal(curAt) {
		return ev.At.After(curAt)
	}
	return verificationOrder[ev.Status] > verificationOrder[cur]
}
