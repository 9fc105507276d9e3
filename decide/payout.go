package decide

import (
	"errors"
	"time"

	"github.com/payoutd/payoutd/models"
)

// Reasons in findings' details (history rows have models.Reason*).
const (
	FindingTerminalChanged = "terminal_status_changed" // completed and failed both reported
	FindingLocalAhead      = "local_ahead"             // Coinflow's record is behind payoutd's
	FindingKeyReused       = "idempotency_key_reused"  // two withdrawals under one key
)

// ReasonFieldsChanged is the history reason of a row that records fields
// changed without a status change.
const ReasonFieldsChanged = "fields_changed"

// ErrNoPayout: api evidence names a payout that is not recorded. Only
// Coinflow's evidence may discover a payout.
var ErrNoPayout = errors.New("no recorded payout matches the evidence")

// Decision is what one Withdrawal does to payoutd's record.
type Decision struct {
	Write models.PayoutWrite
	// Discovered: the withdrawal was not known and is recorded now.
	Discovered bool
	// Healed: the evidence moved the payout's status.
	Healed bool
}

// TerminalSubject is the subject of the finding raised when a payout was
// reported both completed and failed. It is its own subject so that
// reconciliation, which resolves what it no longer sees, never resolves it:
// money that changed its mind stays for a person.
func TerminalSubject(payoutID string) string { return "terminal:" + payoutID }

// Payout decides what w does to the payout it concerns. c holds the
// payouts that may be it, looked up by w's transaction and idempotency
// key; newID names a payout discovered by this decision (it is called
// only then). The decision:
//
//   - matches by transaction, then by idempotency key; a key already
//     holding another transaction was reused, and w is a withdrawal of its
//     own (discovered without the key, raised as missing_locally, error);
//   - discovers a withdrawal payoutd has no record of (not from api
//     evidence: ErrNoPayout);
//   - merges fields: Coinflow's record and the pay answer set what they
//     say; a webhook sets its fees with the status it carries; a
//     discovered payout takes the record's amount, payoutd's own payout
//     keeps the amount it asked for (amount_mismatch when they differ);
//   - orders statuses with models.Transition: never backwards; a newer
//     terminal outcome replaces an older one;
//   - raises status_mismatch under TerminalSubject whenever completed and
//     failed are both reported, whichever came first and from any source,
//     and, for Coinflow's record only, status_mismatch (local_ahead) when
//     that record is behind payoutd's;
//   - writes a history row for every change finance can see, and for
//     every webhook (whose row also marks it applied, once).
func Payout(c models.PayoutCandidates, w Withdrawal, newID func() string) (Decision, error) {
	cur, keyOwner := match(c, &w)
	if cur == nil {
		if w.Source == models.SourceAPI {
			return Decision{}, ErrNoPayout
		}
		return discover(w, keyOwner, newID), nil
	}
	return update(cur, w, keyOwner), nil
}

// match finds the payout w belongs to, and the payout that holds w's
// idempotency key for another withdrawal, if one does.
func match(c models.PayoutCandidates, w *Withdrawal) (cur, keyOwner *models.Payout) {
	if w.Source == models.SourceAPI {
		// Initiation speaks of the payout it recorded under the key; a
		// payout holding the key for another transaction is not it.
		if k := c.ByKey; k != nil && models.Deref(k.IdempotencyKey) == w.IdempotencyKey &&
			(k.CoinflowTransaction == nil || w.Transaction == "" || *k.CoinflowTransaction == w.Transaction) {
			return k, nil
		}
		return nil, nil
	}
	if p := c.ByTransaction; p != nil && w.Transaction != "" && models.Deref(p.CoinflowTransaction) == w.Transaction {
		cur = p
	}
	if k := c.ByKey; k != nil && w.IdempotencyKey != "" && models.Deref(k.IdempotencyKey) == w.IdempotencyKey && (cur == nil || k.ID != cur.ID) {
		switch {
		case k.CoinflowTransaction != nil && w.Transaction != "" && *k.CoinflowTransaction != w.Transaction:
			keyOwner = k
		case cur == nil:
			cur = k
		}
	}
	return cur, keyOwner
}

func discover(w Withdrawal, keyOwner *models.Payout, newID func() string) Decision {
	status := w.Status
	if status == "" {
		status = models.StatusPending // Coinflow has it; its status is news to this version
	}
	p := &models.Payout{
		ID: newID(), UserID: w.UserID, Amount: w.Amount, Status: status, StatusDetail: models.NonEmpty(w.Detail),
		StatusAt: w.At.UTC().Truncate(time.Microsecond), CoinflowTransaction: models.NonEmpty(w.Transaction),
		Source: models.OriginDiscovered, CreatedAt: w.CreatedAt,
	}
	if keyOwner == nil {
		p.IdempotencyKey = models.NonEmpty(w.IdempotencyKey)
	}
	setFees(p, &w)
	mergeRecord(p, &w)
	d := Decision{Discovered: true}
	d.Write = models.PayoutWrite{
		New: p,
		History: []models.PayoutHistory{{
			PayoutID: p.ID, ToStatus: string(p.Status), ToDetail: p.StatusDetail, Applied: true,
			Reason: models.ReasonCreated, Source: w.Source, InboxEventID: w.InboxEventID, EvidenceAt: p.StatusAt,
		}},
	}
	d.Write.Raise = missingLocally(p, &w, keyOwner)
	return d
}

func update(cur *models.Payout, w Withdrawal, keyOwner *models.Payout) Decision {
	next := *cur
	if next.CoinflowTransaction == nil && w.Transaction != "" {
		next.CoinflowTransaction = models.NonEmpty(w.Transaction)
	}
	mergeRecord(&next, &w)
	var d Decision
	switch {
	case w.record() && cur.Source == models.OriginDiscovered:
		if w.Amount.Currency != "" {
			// Its amount came from a webhook's total, whose meaning Coinflow
			// does not define; the record is authoritative.
			next.Amount = w.Amount
		}
		d.Write.Raise = append(d.Write.Raise, missingLocally(&next, &w, keyOwner)...)
	case w.record():
		if w.Amount.Currency != "" && w.Amount != cur.Amount {
			d.Write.Raise = append(d.Write.Raise, finding(cur, models.KindAmountMismatch, cur.ID, models.SeverityError, models.Details{
				"local": cur.Amount, "coinflow": w.Amount, "transaction": w.Transaction,
			}))
		}
	case keyOwner != nil:
		d.Write.Raise = append(d.Write.Raise, missingLocally(&next, &w, keyOwner)...)
	}

	var row *models.PayoutHistory
	if w.Status != "" {
		row = d.decideStatus(cur, &next, &w)
	}
	if w.event() && row != nil && row.Applied {
		setFees(&next, &w) // an event's fees travel with the status it carries
	}
	changes := fieldChanges(cur, &next)
	if len(changes) > 0 {
		d.Write.HistoryIfOpened = nil // a change is always recorded
		if row == nil {
			row = &models.PayoutHistory{
				PayoutID: cur.ID, FromStatus: ptr(string(cur.Status)), ToStatus: string(next.Status),
				FromDetail: cur.StatusDetail, ToDetail: next.StatusDetail, Applied: true, Reason: ReasonFieldsChanged,
				Source: w.Source, InboxEventID: w.InboxEventID, EvidenceAt: w.At,
			}
		}
		row.Changes = changes
	}
	if row != nil {
		d.Write.History = append(d.Write.History, *row)
	}
	d.Write.Old, d.Write.New = cur, &next
	return d
}

// decideStatus orders w's status against cur's and returns the history row
// it makes (Applied when the status moved), adding the findings it raises.
func (d *Decision) decideStatus(cur, next *models.Payout, w *Withdrawal) *models.PayoutHistory {
	ev := w.evidence()
	ch := models.Transition(cur.State(), ev)
	if ch.Apply {
		next.Status, next.StatusDetail, next.StatusAt = ch.Next.Status, models.NonEmpty(ch.Next.Detail), ch.Next.At
		d.Healed = true
	}
	if ch.Conflict {
		details := models.Details{
			"reason": FindingTerminalChanged, "source": w.Source, "status": next.Status, "coinflow_status": w.coinflowStatus(),
		}
		if w.InboxEventID != nil {
			details["inbox_event_id"] = *w.InboxEventID
		}
		d.Write.Raise = append(d.Write.Raise, finding(cur, models.KindStatusMismatch, TerminalSubject(cur.ID), models.SeverityError, details))
	}
	if !ch.Apply && w.record() && cur.Status != ev.Status && !ch.Conflict {
		// Coinflow's record is behind payoutd's. Noted in history once, when
		// the finding opens, not on every run that sees it again.
		d.Write.Raise = append(d.Write.Raise, finding(cur, models.KindStatusMismatch, cur.ID, models.SeverityWarning, models.Details{
			"reason": FindingLocalAhead, "local_status": cur.Status, "coinflow_status": w.coinflowStatus(), "transaction": w.Transaction,
		}))
		d.Write.HistoryIfOpened = &models.FindingKey{Kind: models.KindStatusMismatch, Subject: cur.ID}
	}
	if !ch.Apply && w.record() && ch.Conflict {
		d.Write.HistoryIfOpened = &models.FindingKey{Kind: models.KindStatusMismatch, Subject: TerminalSubject(cur.ID)}
	}
	if !ch.Apply && w.record() && cur.Status == ev.Status {
		return nil // Coinflow agrees: nothing to record on every run that sees it
	}
	// A webhook's row is written whatever it decided: it marks the event
	// applied, once. A record's stale row only when its finding opens.
	return &models.PayoutHistory{
		PayoutID: cur.ID, FromStatus: ptr(string(cur.Status)), ToStatus: string(ev.Status),
		FromDetail: cur.StatusDetail, ToDetail: models.NonEmpty(ev.Detail), Applied: ch.Apply, Reason: ch.Reason,
		Source: w.Source, InboxEventID: w.InboxEventID, EvidenceAt: ev.At,
	}
}

// missingLocally is the finding of a withdrawal payoutd did not initiate:
// raised by Coinflow's record (a webhook alone does not raise it), and by
// any source when the withdrawal reused another payout's idempotency key.
func missingLocally(p *models.Payout, w *Withdrawal, keyOwner *models.Payout) []models.Finding {
	if keyOwner != nil {
		return []models.Finding{finding(p, models.KindMissingLocally, w.Transaction, models.SeverityError, models.Details{
			"reason": FindingKeyReused, "transaction": w.Transaction, "amount": p.Amount, "status": p.Status,
			"idempotency_key_payout_id": keyOwner.ID,
		})}
	}
	if !w.record() {
		return nil
	}
	return []models.Finding{finding(p, models.KindMissingLocally, w.Transaction, models.SeverityWarning, models.Details{
		"transaction": w.Transaction, "amount": w.Amount, "status": w.coinflowStatus(), "speed": w.EffectiveSpeed,
	})}
}

func finding(p *models.Payout, kind models.FindingKind, subject string, sev models.Severity, details models.Details) models.Finding {
	return models.Finding{Kind: kind, Subject: subject, Severity: sev, PayoutID: ptr(p.ID), UserID: ptr(p.UserID), Details: details}
}

// mergeRecord sets the fields Coinflow is the source of truth for, where w
// says them. It leaves a field that already holds the value alone (no
// allocation for the common case, a record that agrees).
func mergeRecord(p *models.Payout, w *Withdrawal) {
	setText(&p.CoinflowTransferID, w.TransferID)
	setText(&p.EffectiveSpeed, w.EffectiveSpeed)
	setTime(&p.ExpectedDeliveryAt, w.ExpectedAt)
	if w.ReturnStatus != "" {
		setText(&p.ReturnStatus, w.ReturnStatus)
		setTime(&p.ReturnedAt, w.ReturnedAt)
	}
	if !w.event() {
		setFees(p, w)
		setText(&p.ExchangeRate, w.ExchangeRate)
		if w.WalletDebit != nil && (p.WalletDebitCents == nil || *p.WalletDebitCents != *w.WalletDebit) {
			v := *w.WalletDebit
			p.WalletDebitCents = &v
		}
	}
}

func setText(dst **string, v string) {
	if v != "" && models.Deref(*dst) != v {
		s := v // allocated only when the field changes
		*dst = &s
	}
}

func setTime(dst **time.Time, v *time.Time) {
	if v == nil {
		return
	}
	// Stored times have microseconds: compare at that precision, or a
	// finer time would look changed on every run.
	if t := v.UTC().Truncate(time.Microsecond); *dst == nil || !(*dst).Equal(t) {
		*dst = &t
	}
}

func setFees(p *models.Payout, w *Withdrawal) {
	if w.UserFees.Currency != "" {
		p.UserFees = w.UserFees
	}
	if w.MerchantFees.Currency != "" {
		p.MerchantFees = w.MerchantFees
	}
}

// fieldChanges lists the columns other than the status that changed.
func fieldChanges(cur, next *models.Payout) models.Changes {
	changed := models.PayoutColumnsChanged(cur, next)
	for _, col := range []string{"status", "status_detail", "status_at"} {
		delete(changed, col)
	}
	if len(changed) == 0 {
		return nil
	}
	return changed
}

func ptr[T any](v T) *T { return &v }
