package coinflowtest

import (
	"cmp"
	"fmt"
)

// CreateWithdraw stores a withdraw as if it had been paid out through the
// API, without counting as a payout call: the reconciliation case "paid at
// Coinflow, unknown locally". Unless NoWebhooks, it queues Withdraw Pending
// and, for a completed or failed status, Withdraw Success or Failure. It is
// priced as a payout is (priceLocked, in the currency of its account).
// Unless NoDebit, that debit leaves the balance (ErrInsufficientFunds if
// short), and comes back for a failed withdraw whose return is completed.
func (e *Emulator) CreateWithdraw(spec WithdrawSpec) (Withdraw, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if spec.UserID == "" || spec.AmountCents <= 0 {
		return Withdraw{}, fmt.Errorf("create withdraw: userId and a positive amount required: %w", ErrInvalid)
	}
	wd := e.byUser[spec.UserID]
	account := spec.Account
	if wd != nil && account == "" {
		account = wd.firstLive(kindAccount)
	}
	currency := "USD"
	if wd != nil {
		if d := wd.findDest("", account); d != nil {
			currency = d.currency
		}
	}
	speed := cmp.Or(spec.Speed, SpeedSameDay)
	effective := cmp.Or(spec.EffectiveSpeed, e.effectiveSpeedLocked(speed, spec.AmountCents, currency))
	status := cmp.Or(spec.Status, StatusPending)
	switch {
	case !validSpeed(speed) || !validSpeed(effective):
		return Withdraw{}, fmt.Errorf("create withdraw: speed %q/%q: %w", speed, effective, ErrInvalid)
	case status != StatusPending && status != StatusInReview && status != StatusCompleted && status != StatusFailed:
		return Withdraw{}, fmt.Errorf("create withdraw: status %q: %w", status, ErrInvalid)
	case spec.ReturnStatus != "" && (status != StatusFailed || (spec.ReturnStatus != ReturnPending && spec.ReturnStatus != ReturnCompleted)):
		return Withdraw{}, fmt.Errorf("create withdraw: returnStatus %q with status %s: %w", spec.ReturnStatus, status, ErrInvalid)
	case spec.IdempotencyKey != "" && e.byKey[spec.IdempotencyKey] != nil:
		return Withdraw{}, fmt.Errorf("create withdraw: idempotencyKey %s: %w", spec.IdempotencyKey, ErrExists)
	case spec.Transaction != "" && e.lookupLocked(spec.Transaction) != nil,
		spec.TransferID != "" && e.lookupLocked(spec.TransferID) != nil:
		return Withdraw{}, fmt.Errorf("create withdraw: transaction or transferId taken: %w", ErrExists)
	}
	p, msg := e.priceLocked(spec.AmountCents, currency, cmp.Or(spec.MerchantFeeCents, e.feeFor(effective)))
	if msg != "" {
		return Withdraw{}, fmt.Errorf("create withdraw: %s: %w", msg, ErrInvalid)
	}
	if !spec.NoDebit && e.balance < p.totalCents {
		return Withdraw{}, fmt.Errorf("create withdraw: %w", ErrInsufficientFunds)
	}

	created := spec.CreatedAt.UTC()
	if spec.CreatedAt.IsZero() {
		created = e.now
	}
	wr := &withdraw{Withdraw: Withdraw{
		Transaction:          cmp.Or(spec.Transaction, e.ids.signature.signature()),
		TransferID:           cmp.Or(spec.TransferID, e.ids.transfer.uuid()),
		IdempotencyKey:       spec.IdempotencyKey,
		UserID:               spec.UserID,
		Account:              account,
		AmountCents:          spec.AmountCents,
		Currency:             currency,
		ExchangeRate:         p.rate.text,
		DebitCents:           p.totalCents,
		RequestedSpeed:       speed,
		EffectiveSpeed:       effective,
		Status:               status,
		ReturnStatus:         spec.ReturnStatus,
		DetailMessage:        spec.DetailMessage,
		MerchantFeeCents:     p.feeCents,
		Provider:             providerFor(effective),
		CreatedAt:            created,
		UpdatedAt:            created,
		ExpectedDeliveryDate: created.Add(e.durationFor(effective)),
	}}
	if wd != nil {
		wr.WithdrawerID = wd.id
	}
	if wr.Account == "" {
		wr.Account = e.ids.token.token("bnk_", 24)
	}
	if status == StatusFailed && spec.ReturnStatus == "" {
		wr.ReturnStatus = ReturnCompleted // what Fail leaves
	}
	if wr.ReturnStatus == ReturnCompleted {
		wr.ReturnTransaction = e.ids.signature.signature()
		wr.ReturnedAt = created
	}
	wr.response = mustJSON(payoutResponseJSON{Signature: wr.Transaction, EffectiveSpeed: effective})
	if !spec.NoDebit {
		e.balance -= wr.DebitCents
		if wr.ReturnStatus == ReturnCompleted {
			e.balance += wr.DebitCents
		}
	}
	e.insertLocked(wr)
	if !spec.NoWebhooks {
		e.emitWithdrawLocked(wr, EventWithdrawPending, created)
		switch status {
		case StatusCompleted:
			e.emitWithdrawLocked(wr, EventWithdrawSuccess, created)
		case StatusFailed:
			e.emitWithdrawLocked(wr, EventWithdrawFailure, created)
		}
	}
	return wr.Withdraw, nil
}
