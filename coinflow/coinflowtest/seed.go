package coinflowtest

import (
	"cmp"
	"fmt"
)

// CreateWithdraw stores a withdraw as if it had been paid out through the
// API, without counting as a payout call: the reconciliation case "paid at
// Coinflow, unknown locally". Unless NoWebhooks, it queues Withdraw Pending
// and, for a completed or failed status, Withdraw Success or Failure. Unless
// NoDebit, amount + fee leave the balance (ErrInsufficientFunds if short),
// and come back for a failed withdraw whose return is completed.
func (e *Emulator) CreateWithdraw(spec WithdrawSpec) (Withdraw, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if spec.UserID == "" || spec.AmountCents <= 0 {
		return Withdraw{}, fmt.Errorf("create withdraw: userId and a positive amount required: %w", ErrInvalid)
	}
	speed := cmp.Or(spec.Speed, SpeedSameDay)
	effective := cmp.Or(spec.EffectiveSpeed, e.effectiveSpeedLocked(speed, spec.AmountCents))
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
	fee := cmp.Or(spec.MerchantFeeCents, e.feeFor(effective))
	if !spec.NoDebit && e.balance < spec.AmountCents+fee {
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
		Account:              spec.Account,
		AmountCents:          spec.AmountCents,
		Currency:             "USD",
		RequestedSpeed:       speed,
		EffectiveSpeed:       effective,
		Status:               status,
		ReturnStatus:         spec.ReturnStatus,
		DetailMessage:        spec.DetailMessage,
		MerchantFeeCents:     fee,
		Provider:             providerFor(effective),
		CreatedAt:            created,
		UpdatedAt:            created,
		ExpectedDeliveryDate: created.Add(e.durationFor(effective)),
	}}
	if wd := e.byUser[spec.UserID]; wd != nil {
		wr.WithdrawerID = wd.id
		if wr.Account == "" {
			wr.Account = wd.firstLive(kindAccount)
		}
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
		e.balance -= wr.AmountCents + fee
		if wr.ReturnStatus == ReturnCompleted {
			e.balance += wr.AmountCents + fee
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
