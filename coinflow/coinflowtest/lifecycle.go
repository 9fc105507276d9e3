package coinflowtest

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Advance moves the emulator clock forward by d and runs the lifecycle:
// every pending payout whose expected delivery date has come completes,
// in the order they fell due, and its Withdraw Success is queued.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setNowLocked(e.now.Add(d))
}

// SetNow sets the emulator clock and runs the lifecycle as Advance does.
// Moving it backwards changes nothing already done.
func (e *Emulator) SetNow(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setNowLocked(t.UTC())
}

func (e *Emulator) setNowLocked(t time.Time) {
	e.now = t
	var due []*withdraw
	for _, w := range e.sorted {
		if w.Status == StatusPending && !w.Stuck && !w.Unclaimed && !w.ExpectedDeliveryDate.After(t) {
			due = append(due, w)
		}
	}
	slices.SortFunc(due, func(a, b *withdraw) int {
		if c := a.ExpectedDeliveryDate.Compare(b.ExpectedDeliveryDate); c != 0 {
			return c
		}
		return int(a.seq - b.seq)
	})
	for _, w := range due {
		e.completeLocked(w, w.ExpectedDeliveryDate)
	}
}

func (e *Emulator) completeLocked(w *withdraw, at time.Time) {
	w.Status = StatusCompleted
	w.Unclaimed, w.OnHold = false, false
	w.UpdatedAt = at
	e.emitWithdrawLocked(w, EventWithdrawSuccess, at)
}

// changeWithdraw runs change on the stored withdraw txn (transaction or
// transferId) under the lock, or fails with ErrNotFound.
func (e *Emulator) changeWithdraw(txn string, change func(w *withdraw) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.lookupLocked(txn)
	if w == nil {
		return fmt.Errorf("withdraw %s: %w", txn, ErrNotFound)
	}
	return change(w)
}

// unsettled are the statuses a payout can still be moved out of by hand.
var unsettled = []string{StatusPending, StatusInReview}

// transition applies move to the stored withdraw txn if its status is one
// of from, else fails with ErrInvalidTransition; to names the status it
// moves to in that error ("" for a change that keeps the status).
func (e *Emulator) transition(txn, to string, from []string, move func(w *withdraw)) error {
	return e.changeWithdraw(txn, func(w *withdraw) error {
		if !slices.Contains(from, w.Status) {
			return fmt.Errorf("withdraw %s %s -> %s: %w", w.Transaction, w.Status, cmp.Or(to, w.Status), ErrInvalidTransition)
		}
		move(w)
		return nil
	})
}

// Complete completes a pending, in-review, stuck, unclaimed (now claimed)
// or on-hold payout now (Withdraw Success).
func (e *Emulator) Complete(txn string) error {
	return e.transition(txn, StatusCompleted, unsettled, func(w *withdraw) {
		w.Stuck = false
		e.completeLocked(w, e.now)
	})
}

// Fail fails a pending or in-review payout (an unclaimed one that was never
// claimed, an on-hold one that was refused) before it reached the bank: its
// debit (amount in USD and merchant fee) goes back to the balance at once, the withdraw
// shows returnStatus return_completed, and Withdraw Failure is queued.
func (e *Emulator) Fail(txn, detailMessage string) error {
	return e.transition(txn, StatusFailed, unsettled, func(w *withdraw) {
		w.Status = StatusFailed
		w.DetailMessage = detailMessage
		w.Stuck, w.Unclaimed, w.OnHold = false, false, false
		e.returnLocked(w, e.now)
		e.emitWithdrawLocked(w, EventWithdrawFailure, e.now)
	})
}

// FailAfterSuccess turns a completed payout into a failed one, as a bank
// return does: returnStatus pending_return, balance unchanged until
// ReturnComplete, Withdraw Failure queued.
func (e *Emulator) FailAfterSuccess(txn string) error {
	return e.transition(txn, StatusFailed, []string{StatusCompleted}, func(w *withdraw) {
		w.Status = StatusFailed
		w.ReturnStatus = ReturnPending
		w.DetailMessage = "Returned by the receiving bank"
		w.UpdatedAt = e.now
		e.emitWithdrawLocked(w, EventWithdrawFailure, e.now)
	})
}

// ReturnComplete completes the return of a failed payout (pending_return ->
// return_completed) and credits its debit back. No webhook:
// Coinflow documents none for returns.
func (e *Emulator) ReturnComplete(txn string) error {
	return e.changeWithdraw(txn, func(w *withdraw) error {
		if w.Status != StatusFailed || w.ReturnStatus != ReturnPending {
			return fmt.Errorf("withdraw %s return %q -> %s: %w", txn, w.ReturnStatus, ReturnCompleted, ErrInvalidTransition)
		}
		e.returnLocked(w, e.now)
		return nil
	})
}

func (e *Emulator) returnLocked(w *withdraw, at time.Time) {
	w.ReturnStatus = ReturnCompleted
	w.ReturnTransaction = e.ids.signature.signature()
	w.ReturnedAt = at
	w.UpdatedAt = at
	e.balance += w.DebitCents
}

// SetInReview puts a pending payout in review: it shows in_review on the
// list (pending on the single get, whose schema lacks in_review), sends no
// webhook and stays there until Complete or Fail.
func (e *Emulator) SetInReview(txn string) error {
	return e.transition(txn, StatusInReview, []string{StatusPending}, func(w *withdraw) {
		w.Status = StatusInReview
		w.UpdatedAt = e.now
	})
}

// MarkUnclaimed makes a pending payout wait for its recipient to claim it,
// as a PayPal or Venmo payout does: it stays pending (no WithdrawStatus
// says unclaimed), no longer completes on its own, and Withdraw Unclaimed
// (same data as its Withdraw Pending) is queued. Complete (claimed) or
// Fail (never claimed: refunded) ends it. ErrInvalidTransition unless it
// is pending and not unclaimed yet. [ASSUMED] Coinflow documents the event
// for PayPal and Venmo payouts only; the emulator allows it on any pending
// payout, so that a client's handling can be tested on the rails it pays.
func (e *Emulator) MarkUnclaimed(txn string) error {
	return e.changeWithdraw(txn, func(w *withdraw) error {
		if w.Status != StatusPending || w.Unclaimed {
			return fmt.Errorf("withdraw %s %s -> unclaimed: %w", w.Transaction, w.Status, ErrInvalidTransition)
		}
		w.Unclaimed = true
		w.UpdatedAt = e.now
		e.emitWithdrawLocked(w, EventWithdrawUnclaimed, e.now)
		return nil
	})
}

// MarkOnHold puts a pending (or unclaimed) or in-review payout on hold:
// status in_review (pending on the single get, as SetInReview), Withdraw
// On Hold queued; it stays there until Complete or Fail.
// ErrInvalidTransition unless pending or in review and not on hold yet.
func (e *Emulator) MarkOnHold(txn string) error {
	return e.changeWithdraw(txn, func(w *withdraw) error {
		if !slices.Contains(unsettled, w.Status) || w.OnHold {
			return fmt.Errorf("withdraw %s %s -> on hold: %w", w.Transaction, w.Status, ErrInvalidTransition)
		}
		w.Status, w.OnHold = StatusInReview, true
		w.UpdatedAt = e.now
		e.emitWithdrawLocked(w, EventWithdrawOnHold, e.now)
		return nil
	})
}

// Stuck makes a pending or in-review payout never progress on its own;
// Complete and Fail still move it.
func (e *Emulator) Stuck(txn string) error {
	return e.transition(txn, "", unsettled, func(w *withdraw) {
		w.Stuck = true
	})
}

// SetDowngrade makes every later payout requested at speed from go out at
// speed to (effectiveSpeed to), until SetDowngrade(from, "") clears it. The
// NACHA same_day rule applies first.
func (e *Emulator) SetDowngrade(from, to string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if to == "" || to == from {
		delete(e.downgrades, from)
		return
	}
	e.downgrades[from] = to
}
