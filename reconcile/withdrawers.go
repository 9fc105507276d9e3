package reconcile

import (
	"context"
	"fmt"

	"github.com/payoutd/payoutd/kyc"
	"github.com/payoutd/payoutd/models"
)

// checkWithdrawers syncs every withdrawer's verification and blocked flag
// from Coinflow's list, streamed a chunk at a time (package kyc), then
// raises unverified_withdrawer for payouts in the window whose withdrawer
// is not approved or is blocked, and kyc_stalled for withdrawers pending
// longer than KYCStallAfter.
func (r *Reconciler) checkWithdrawers(ctx context.Context, st *runState) {
	res, err := kyc.SyncList(ctx, r.store, r.cf, kyc.ListOptions{RunID: &st.run.ID})
	st.add("withdrawers_synced", res.Listed)
	if res.Changed > 0 {
		st.add("withdrawers_changed", res.Changed)
	}
	if err != nil {
		// A partial list still synced what it read; what it did not read
		// is judged from payoutd's record below.
		st.problem("withdrawers", err, false)
	}
	err = r.store.PayoutEachOfUnverifiedSince(ctx, st.since, func(p *models.Payout, w models.WithdrawerState) error {
		sev := models.SeverityWarning
		if w.Blocked {
			sev = models.SeverityError
		}
		return r.raise(ctx, r.store, st, models.Finding{
			Kind: models.KindUnverifiedWithdrawer, Subject: p.ID, Severity: sev, PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{"verification_status": w.Status, "blocked": w.Blocked, "payout_status": p.Status},
		})
	})
	if err != nil {
		st.problem("withdrawers", err, true)
		return
	}
	n, err := r.store.FindingResolveUnseen(ctx, models.KindUnverifiedWithdrawer, st.run.ID, "")
	r.resolved(st, n, err, "withdrawers")
	r.checkStalled(ctx, st)
}

// checkStalled raises kyc_stalled for each withdrawer pending verification
// for longer than KYCStallAfter (since the evidence that made it pending),
// and resolves the ones whose verification has ended.
func (r *Reconciler) checkStalled(ctx context.Context, st *runState) {
	cutoff := st.now.Add(-r.cfg.KYCStallAfter)
	err := r.store.WithdrawerEachStalled(ctx, cutoff, func(w *models.Withdrawer) error {
		details := models.Details{
			"pending_since": w.VerificationAt.UTC(), "pending_for": st.now.Sub(w.VerificationAt).Round(1e9).String(),
			"stall_after": r.cfg.KYCStallAfter.String(), "checks": w.Checks,
		}
		if w.Country != nil {
			details["country"] = *w.Country
		}
		return r.raise(ctx, r.store, st, models.Finding{
			Kind: models.KindKYCStalled, Subject: "withdrawer:" + w.UserID, Severity: models.SeverityWarning,
			UserID: &w.UserID, Details: details,
		})
	})
	if err != nil {
		st.problem("withdrawers", fmt.Errorf("kyc stalled: %w", err), true)
		return
	}
	n, err := r.store.FindingResolveUnseen(ctx, models.KindKYCStalled, st.run.ID, "")
	r.resolved(st, n, err, "withdrawers")
}
