package coinflowtest

import (
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
		if w.Status == StatusPending && !w.Stuck && !w.ExpectedDeliveryDate.After(t) {
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
	w.UpdatedAt = at
	e.emitWithdrawLocked(w, EventWithdrawSuccess, at)
}

// withdrawLocked finds txn (transaction or transferId) or fails.
func (e *Emulator) withdrawLocked(txn string) (*withdraw, error) {
	w := e.lookupLocked(txn)
	if w == nil {
		return nil, fmt.Errorf("withdraw %s: %w", txn, ErrNotFound)
	}
	return w, nil
}

func transition(w *withdraw, to string, from ...string) error {
	if !slices.Contains(from, w.Status) {
		return fmt.Errorf("withdraw %s %s -> %s: %w", w.Transaction, w.Status, to, ErrInvalidTransition)
	}
	return nil
}

// Complete completes a pending, in-review or stuck payout now (Withdraw
// Success).
func (e *Emulator) Complete(txn string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, err := e.withdrawLocked(txn)
	if err != nil {
		return err
	}
	if err := transition(w, StatusCompleted, StatusPending, StatusInReview); err != nil {
		return err
	}
	w.Stuck = false
	e.completeLocked(w, e.now)
	return nil
}

// Fail fails a pending or in-review payout before it reached the bank: the
// amount and the merchant fee go back to the balance at once, the withdraw
// shows returnStatus return_completed, and Withdraw Failure is queued.
func (e *Emulator) Fail(txn, detailMessage string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, err := e.withdrawLocked(txn)
	if err != nil {
		return err
	}
	if err := transition(w, StatusFailed, StatusPending, StatusInReview); err != nil {
		return err
	}
	w.Status = StatusFailed
	w.DetailMessage = detailMessage
	w.Stuck = false
	e.returnLocked(w, e.now)
	e.emitWithdrawLocked(w, EventWithdrawFailure, e.now)
	return nil
}

// FailAfterSuccess turns a completed payout into a failed one, as a bank
// return does: returnStatus pending_return, balance unchanged until
// ReturnComplete, Withdraw Failure queued.
func (e *Emulator) FailAfterSuccess(txn string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, err := e.withdrawLocked(txn)
	if err != nil {
		return err
	}
	if err := transition(w, StatusFailed, StatusCompleted); err != nil {
		return err
	}
	w.Status = StatusFailed
	w.ReturnStatus = ReturnPending
	w.DetailMessage = "Returned by the receiving bank"
	w.UpdatedAt = e.now
	e.emitWithdrawLocked(w, EventWithdrawFailure, e.now)
	return nil
}

// ReturnComplete completes the return of a failed payout (pending_return ->
// return_completed) and credits amount + merchant fee back. No webhook:
// Coinflow documents none for returns.
func (e *Emulator) ReturnComplete(txn string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, err := e.withdrawLocked(txn)
	if err != nil {
		return err
	}
	if w.Status != StatusFailed || w.ReturnStatus != ReturnPending {
		return fmt.Errorf("withdraw %s return %q -> %s: %w", txn, w.ReturnStatus, ReturnCompleted, ErrInvalidTransition)
	}
	e.returnLocked(w, e.now)
	return nil
}

func (e *Emulator) returnLocked(w *withdraw, at time.Time) {
	w.ReturnStatus = ReturnCompleted
	w.ReturnTransaction = e.ids.signature.signature()
	w.ReturnedAt = at
	w.UpdatedAt = at
	e.balance += w.AmountCents + w.MerchantFeeCents
}

// SetInReview puts a pending payout in review: it shows in_review on the
// list (pending on the single get, whose schema lacks in_review), sends no
// webhook and stays there until Complete or Fail.
func (e *Emulator) SetInReview(txn string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, err := e.withdrawLocked(txn)
	if err != nil {
		return err
	}
	if err := transition(w, StatusInReview, StatusPending); err != nil {
		return err
	}
	w.Status = StatusInReview
	w.UpdatedAt = e.now
	return nil
}

// Stuck makes a pending or in-review payout never progress on its own;
// Complete and Fail still move it.
func (e *Emulator) Stuck(txn string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, err := e.withdrawLocked(txn)
	if err != nil {
		return err
	}
	if err := transition(w, w.Status, StatusPending, StatusInReview); err != nil {
		return err
	}
	w.Stuck = true
	return nil
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
