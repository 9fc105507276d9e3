package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/payoutd/payoutd/bizday"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// expectedDowngrade reports whether a speed difference is the NACHA rule.
func expectedDowngrade(p *models.Payout) bool {
	return p.RequestedSpeed != nil && p.EffectiveSpeed != nil &&
		rail.NACHADowngrade(*p.RequestedSpeed, *p.EffectiveSpeed, p.Amount.Currency, p.Amount.Cents)
}

// checkSpeeds raises speed_mismatch for every payout whose effective speed
// differs from the requested one. It reads only local state, so it always
// checks everything and resolves what it no longer sees.
func (r *Reconciler) checkSpeeds(ctx context.Context, st *runState) {
	err := r.store.PayoutEachSpeedDiffers(ctx, func(p *models.Payout) error {
		details := models.Details{"requested_speed": *p.RequestedSpeed, "effective_speed": *p.EffectiveSpeed, "amount": p.Amount}
		sev := models.SeverityWarning
		if expectedDowngrade(p) {
			details["expected"], details["reason"] = true, "nacha_same_day_limit"
			sev = models.SeverityInfo
		} else {
			details["expected"] = false
		}
		return r.raise(ctx, r.store, st, models.Finding{
			Kind: models.KindSpeedMismatch, Subject: p.ID, Severity: sev, PayoutID: &p.ID, UserID: &p.UserID, Details: details,
		})
	})
	if err != nil {
		st.problem("speed", err, true)
		return
	}
	n, err := r.store.FindingResolveUnseen(ctx, models.KindSpeedMismatch, st.run.ID, "")
	r.resolved(st, n, err, "speed")
}

// Deadline is when a payout should have been delivered: Coinflow's
// expectedDeliveryDate when known, else the rail's window from creation.
func (r *Reconciler) Deadline(p *models.Payout) (time.Time, string) {
	if p.ExpectedDeliveryAt != nil {
		return p.ExpectedDeliveryAt.Add(r.cfg.StuckGrace), "expected_delivery_date"
	}
	speed := ""
	switch {
	case p.EffectiveSpeed != nil:
		speed = *p.EffectiveSpeed
	case p.RequestedSpeed != nil:
		speed = *p.RequestedSpeed
	}
	var due time.Time
	switch w := r.cfg.Windows.Of(speed); {
	case w.EndOfBusinessDay:
		due = bizday.EndOfBusinessDay(p.CreatedAt)
	case w.BusinessDays > 0:
		due = bizday.AddBusinessDays(p.CreatedAt, w.BusinessDays)
	default:
		due = p.CreatedAt.Add(w.Duration)
	}
	return due.Add(r.cfg.StuckGrace), "window:" + speed
}

// checkStuck raises stuck_payout for payouts pending or in review past
// their deadline, and resolves those that moved on.
func (r *Reconciler) checkStuck(ctx context.Context, st *runState) {
	err := r.store.PayoutEachInStatus(ctx, []models.PayoutStatus{models.StatusPending, models.StatusInReview}, func(p *models.Payout) error {
		due, basis := r.Deadline(p)
		if !st.now.After(due) {
			return nil
		}
		st.add("stuck", 1)
		return r.raise(ctx, r.store, st, models.Finding{
			Kind: models.KindStuckPayout, Subject: p.ID, Severity: models.SeverityWarning, PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{
				"status": p.Status, "deadline": due, "deadline_basis": basis,
				"overdue_seconds": int64(st.now.Sub(due).Seconds()), "amount": p.Amount,
			},
		})
	})
	if err != nil {
		st.problem("stuck", err, true)
		return
	}
	n, err := r.store.FindingResolveUnseen(ctx, models.KindStuckPayout, st.run.ID, "")
	r.resolved(st, n, err, "stuck")
}

// balanceRead is the wallet balance and when it was read; ok is false when
// Coinflow did not answer.
type balanceRead struct {
	cents int64
	at    time.Time
	ok    bool
}

func (r *Reconciler) readBalance(ctx context.Context, st *runState) balanceRead {
	at := r.store.Now()
	cents, err := r.cf.Balance(ctx)
	if err != nil {
		st.problem("wallet", fmt.Errorf("read balance: %w", err), false)
		return balanceRead{}
	}
	return balanceRead{cents: cents, at: at, ok: true}
}

// checkWallet raises wallet_low_balance under the floor or under what is in
// flight and, when the payouts check saw all of Coinflow, snapshots the
// balance and compares its change since the previous snapshot with what
// local payouts explain. Snapshots are kept only from complete runs, so an
// interval is always judged against a complete picture. Everything is in
// USD, the wallet's currency: a foreign payout counts by its USD wallet
// debit (models.USDCost).
func (r *Reconciler) checkWallet(ctx context.Context, st *runState, bal balanceRead, payoutsComplete bool) {
	if !bal.ok {
		return
	}
	st.add("balance_cents", bal.cents)
	if !r.checkLowBalance(ctx, st, bal.cents) {
		return
	}
	if !payoutsComplete {
		return // drift needs the whole picture of payouts
	}
	r.checkDrift(ctx, st, bal)
}

// checkLowBalance raises wallet_low_balance when balance is under the floor
// (a warning) or under the USD cost of the payouts in flight (an error),
// and resolves it otherwise; false when the store failed.
//
// A foreign payout in flight that Coinflow has not priced yet has no known
// USD cost. It is not taken as 0 in silence: the run counts such payouts
// (wallet_unpriced_in_flight), a finding raised says how many its
// in_flight_cents leaves out (in_flight_unpriced_payouts), and an open
// finding is not resolved while any is in flight, since the balance may
// not cover them. What is priced is still checked: a balance under it is
// an error whatever the unpriced payouts cost.
func (r *Reconciler) checkLowBalance(ctx context.Context, st *runState, balance int64) bool {
	inFlight, err := r.store.PayoutSumInFlight(ctx)
	if err != nil {
		st.problem("wallet", err, true)
		return false
	}
	if inFlight.Unpriced > 0 {
		st.add("wallet_unpriced_in_flight", inFlight.Unpriced)
	}
	floor := r.cfg.LowBalanceCents
	if (floor > 0 && balance < floor) || balance < inFlight.Cents {
		sev := models.SeverityWarning
		if balance < inFlight.Cents {
			sev = models.SeverityError
		}
		if err := r.raise(ctx, r.store, st, models.Finding{
			Kind: models.KindWalletLowBalance, Subject: "wallet", Severity: sev,
			Details: models.Details{
				"balance_cents": balance, "floor_cents": floor, "in_flight_cents": inFlight.Cents,
				"in_flight_unpriced_payouts": inFlight.Unpriced,
			},
		}); err != nil {
			st.problem("wallet", err, true)
			return false
		}
		return true
	}
	if inFlight.Unpriced > 0 {
		return true // cannot say the balance covers what is in flight
	}
	ok, err := r.store.FindingResolveFor(ctx, models.KindWalletLowBalance, "wallet", st.run.ID)
	if ok {
		st.add("findings_resolved", 1)
	}
	if err != nil {
		st.problem("wallet", err, true)
		return false
	}
	return true
}

// checkDrift snapshots the balance and raises wallet_drift when its change
// since the previous snapshot differs from what local payouts explain by
// more than the tolerance.
//
// A foreign payout that reached Coinflow in the interval but is not priced
// yet cannot be explained in USD: judging the interval without it would
// raise a false drift. The run then counts such payouts
// (wallet_unpriced_payouts) and keeps no snapshot, so that the interval
// stays open: the next run measures from the same previous snapshot, and
// the first run after reconciliation has priced the payout judges the
// whole of it. (While a payout stays unpriced, no drift is judged and every
// run counts it.)
func (r *Reconciler) checkDrift(ctx context.Context, st *runState, bal balanceRead) {
	at := models.SnapshotTime(bal.at)
	prev, prevErr := r.store.WalletSnapshotLatestBefore(ctx, at)
	var mv models.WalletMovement
	var mvErr error
	if prevErr == nil {
		mv, mvErr = r.store.WalletMovementBetween(ctx, prev.TakenAt, at)
		if mvErr == nil && mv.Unpriced > 0 {
			st.add("wallet_unpriced_payouts", mv.Unpriced)
			return
		}
	}
	snap, err := r.store.WalletSnapshotAdd(ctx, st.run.ID, at, bal.cents)
	if err != nil {
		st.problem("wallet", err, true)
		return
	}
	if prevErr != nil {
		return // the first snapshot: nothing to compare with
	}
	if mvErr != nil {
		st.problem("wallet", mvErr, true)
		return
	}
	actual, err := models.SubCents(bal.cents, prev.BalanceCents)
	if err != nil {
		st.problem("wallet", fmt.Errorf("wallet change since snapshot %d %w", prev.ID, err), true)
		return
	}
	explained, err := mv.Explained()
	if err != nil {
		st.problem("wallet", err, true)
		return
	}
	unexplained, err := models.SubCents(actual, explained)
	if err != nil {
		st.problem("wallet", fmt.Errorf("unexplained wallet change %w", err), true)
		return
	}
	if unexplained <= r.cfg.DriftToleranceCents && unexplained >= -r.cfg.DriftToleranceCents {
		return
	}
	if err := r.raise(ctx, r.store, st, models.Finding{
		Kind:    models.KindWalletDrift,
		Subject: fmt.Sprintf("wallet:%d-%d", prev.ID, snap.ID), Severity: models.SeverityError,
		Details: models.Details{
			"from": prev.TakenAt, "to": snap.TakenAt,
			"balance_before_cents": prev.BalanceCents, "balance_after_cents": bal.cents, "change_cents": actual,
			"explained_cents": explained,
			"explained_by": models.Details{
				"payouts_cents": -mv.PayoutsCents, "merchant_fees_cents": -mv.FeesCents,
				"foreign_payouts_usd_cents": -mv.ForeignCents, "failures_and_returns_cents": mv.RefundedCents,
			},
			"unexplained_cents": unexplained, "tolerance_cents": r.cfg.DriftToleranceCents,
		},
	}); err != nil {
		st.problem("wallet", err, true)
	}
}
