package decide

import (
	"time"

	"github.com/payoutd/payoutd/models"
)

// Verification is what Coinflow says about one withdrawer. Zero fields are
// things the source did not say.
type Verification struct {
	Source       models.Source
	InboxEventID *int64

	UserID      string
	Wallet      string
	Blockchain  string
	EmailMasked string // never the full address
	Status      models.VerificationStatus
	// At is when the evidence says the status held. Coinflow's list carries
	// no time: it speaks for the moment it was read.
	At time.Time
	// Blocked is nil when the source does not say (a KYC webhook).
	Blocked *bool
	// SyncedAt is set when the evidence is Coinflow's record read at that
	// time (the withdrawer list).
	SyncedAt *time.Time
	// Country and Currency are "" when the source does not say them.
	Country  string
	Currency string
	// Link is Coinflow's hosted verification page for a pending withdrawer;
	// "" when the source does not give one. It is kept only while the
	// withdrawer is pending.
	Link string
}

// WithdrawerDecision is what one Verification does to payoutd's record.
type WithdrawerDecision struct {
	Write models.WithdrawerWrite
	// Changed: something finance can see changed.
	Changed bool
}

// Withdrawer decides what v does to the withdrawer cur (nil when payoutd
// does not know it yet). Verification is not monotonic (a rejected user
// may retry and pass; an approval may expire), so the newest evidence wins,
// with a fixed tie-break (models.VerificationNewer). The identity (wallet,
// masked email) comes with the evidence that wins; the blocked flag with
// Coinflow's record. Every change writes a history row; so does every
// webhook, applied or not, which marks it applied once. A record that
// agrees writes none.
func Withdrawer(cur *models.Withdrawer, v Verification) WithdrawerDecision {
	at := v.At.UTC().Truncate(time.Microsecond)
	old := models.Withdrawer{}
	if cur != nil {
		old = *cur
	}
	next := old
	next.UserID = v.UserID
	ev := models.WithdrawerEvidence{Status: v.Status, At: at, Source: v.Source}
	apply := v.Status != "" && models.VerificationNewer(old.VerificationStatus, old.VerificationAt, ev)
	began := false
	if cur != nil && old.VerificationStatus == v.Status {
		// The status held already: evidence of it moves nothing but, when
		// it says the status held earlier than payoutd knew, the time: the
		// time is when the status began (kyc_stalled counts from it), the
		// same whatever order the evidence came in.
		apply, began = false, at.Before(old.VerificationAt)
	}
	reason := models.ReasonStale
	switch {
	case apply && cur == nil:
		reason = models.ReasonCreated
	case apply:
		reason = models.ReasonAdvanced
	case old.VerificationStatus == v.Status:
		reason = models.ReasonSame
	}
	if apply || began {
		next.VerificationStatus, next.VerificationAt = v.Status, at
	}
	if apply || cur == nil {
		if v.Wallet != "" {
			next.Wallet, next.Blockchain = v.Wallet, v.Blockchain
		}
		if v.EmailMasked != "" {
			next.EmailMasked = v.EmailMasked
		}
	}
	if v.Blocked != nil {
		next.Blocked = *v.Blocked
	}
	setText(&next.Country, v.Country)
	setText(&next.Currency, v.Currency)
	if next.VerificationStatus == models.VerificationPending {
		setText(&next.VerificationLink, v.Link)
	} else {
		next.VerificationLink = nil // verification ended: the link is of no use
	}
	if v.SyncedAt != nil {
		t := v.SyncedAt.UTC().Truncate(time.Microsecond)
		next.LastSyncedAt = &t
	}
	var changes models.Changes
	if cur != nil {
		changes = models.WithdrawerColumnsChanged(cur, &next)
		// The link is a means to an end, not a fact finance reads.
		for _, col := range []string{"verification_status", "verification_at", "verification_link"} {
			delete(changes, col)
		}
		if len(changes) == 0 {
			changes = nil
		}
	}
	d := WithdrawerDecision{Changed: cur == nil || apply && old.VerificationStatus != v.Status || changes != nil}
	d.Write = models.WithdrawerWrite{New: &next, Old: cur}
	statusSaid := v.Status != "" && (v.InboxEventID != nil || apply && old.VerificationStatus != v.Status || cur == nil)
	switch {
	case statusSaid:
		d.Write.History = []models.WithdrawerHistory{{
			FromStatus: models.NonEmpty(string(old.VerificationStatus)), ToStatus: string(v.Status), Applied: apply, Reason: reason,
			Source: v.Source, InboxEventID: v.InboxEventID, EvidenceAt: at, Changes: changes,
		}}
	case changes != nil:
		d.Write.History = []models.WithdrawerHistory{{
			FromStatus: models.NonEmpty(string(old.VerificationStatus)), ToStatus: string(next.VerificationStatus), Applied: true,
			Reason: ReasonFieldsChanged, Source: v.Source, EvidenceAt: at, Changes: changes,
		}}
	}
	return d
}
