package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/models"
)

// checkPayouts streams Coinflow's withdraws over the window and compares
// them page by page: cfg.PageWorkers pages at a time, each in its own
// transaction, while the stream fetches ahead (paging itself is sequential:
// each page's cursor comes from the one before). Pages that share a
// withdraw are compared one after the other, in stream order (pageGate).
// Each withdraw is matched to a local payout, healed or raised, and
// recorded as seen. After a complete stream it looks for local payouts
// Coinflow does not have. It reports whether it saw all of Coinflow's
// withdraws in the window.
func (r *Reconciler) checkPayouts(ctx context.Context, st *runState) bool {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	params := coinflow.ListWithdrawsParams{Since: st.since, Limit: r.cfg.PageSize}
	pages := make(chan *page, r.cfg.PageWorkers)
	var (
		failOnce sync.Once
		failed   bool
	)
	fail := func(check string, err error, local bool) {
		failOnce.Do(func() {
			failed = true
			st.problem(check, err, local)
			cancel()
		})
	}
	var workers sync.WaitGroup
	for range r.cfg.PageWorkers {
		workers.Go(func() {
			for pg := range pages {
				if err := r.comparePage(pctx, st, pg); err != nil {
					// One retry: a webhook may have moved a payout
					// underneath.
					if err = r.comparePage(pctx, st, pg); err != nil {
						fail("payouts", fmt.Errorf("compare withdraws: %w", err), true)
					}
				}
				close(pg.done)
			}
		})
	}
	gate := newPageGate()
	var seq uint32
	for ws, err := range r.cf.WithdrawPages(pctx, params) {
		if err != nil {
			fail("payouts", fmt.Errorf("list withdraws: %w", err), false)
			break
		}
		st.add("withdraws_seen", int64(len(ws)))
		seq++
		pg := newPage(seq, ws)
		if gate.admit(pctx, pg) != nil {
			break
		}
		select {
		case pages <- pg:
		case <-pctx.Done():
		}
		if pctx.Err() != nil {
			break
		}
	}
	close(pages)
	workers.Wait()
	if failed {
		return false
	}
	if err := ctx.Err(); err != nil {
		st.problem("payouts", fmt.Errorf("compare withdraws: %w", err), true)
		return false
	}
	if err := r.findMissingAtCoinflow(ctx, st); err != nil {
		st.problem("missing_at_coinflow", err, !isCoinflow(err))
		return false
	}
	for _, kind := range []models.FindingKind{models.KindStatusMismatch, models.KindAmountMismatch, models.KindMissingAtCoinflow} {
		n, err := r.resolveSeen(ctx, st, kind)
		r.resolved(st, n, err, "payouts")
	}
	return true
}

// resolveSeen resolves the unresolved findings of kind whose subject is a
// payout this run saw at Coinflow and did not raise again: the run compared
// those payouts in full, so their condition is gone.
func (r *Reconciler) resolveSeen(ctx context.Context, st *runState, kind models.FindingKind) (int64, error) {
	refs, err := r.store.FindingListNotRaisedBy(ctx, kind, st.run.ID)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, f := range refs {
		if st.seen.has(f.Subject) {
			ids = append(ids, f.ID)
		}
	}
	return r.store.FindingResolveInRun(ctx, ids, st.run.ID)
}

func isCoinflow(err error) bool {
	_, ok := errors.AsType[*coinflow.APIError](err)
	return ok
}

// attempt is one try at comparing a page, inside its transaction: what it
// counts reaches the run only if the transaction commits.
type attempt struct {
	tx     *models.Store
	st     *runState
	counts map[string]int64
}

func (a *attempt) add(counter string, n int64) { a.counts[counter] += n }

func (a *attempt) raise(ctx context.Context, f models.Finding) error {
	_, err := raiseCounted(ctx, a.tx, a.st.run.ID, a.add, f)
	return err
}

func (a *attempt) raiseOpened(ctx context.Context, f models.Finding) (bool, error) {
	return raiseCounted(ctx, a.tx, a.st.run.ID, a.add, f)
}

// comparePage handles one page in one transaction and, once it has
// committed, adds the page's payouts to those the run saw.
func (r *Reconciler) comparePage(ctx context.Context, st *runState, pg *page) error {
	ws := pg.ws
	txns := make([]string, 0, len(ws))
	keys := make([]string, 0, len(ws))
	for i := range ws {
		txns = append(txns, ws[i].Transaction)
		if ws[i].IdempotencyKey != "" {
			keys = append(keys, ws[i].IdempotencyKey)
		}
	}
	if r.beforePage != nil {
		r.beforePage(pg.seq)
	}
	a := &attempt{st: st, counts: map[string]int64{}}
	var seen []string
	err := r.store.Tx(ctx, func(tx *models.Store) error {
		a.tx = tx
		clear(a.counts)
		seen = seen[:0]
		locals, err := tx.PayoutListMatching(ctx, txns, keys)
		if err != nil {
			return err
		}
		byTx := make(map[string]*models.Payout, len(locals))
		byKey := make(map[string]*models.Payout, len(locals))
		for i := range locals {
			p := &locals[i]
			if p.CoinflowTransaction != nil {
				byTx[*p.CoinflowTransaction] = p
			}
			if p.IdempotencyKey != nil {
				byKey[*p.IdempotencyKey] = p
			}
		}
		for i := range ws {
			w := &ws[i]
			p := byTx[w.Transaction]
			keyTaken := false
			if p == nil && w.IdempotencyKey != "" {
				if k := byKey[w.IdempotencyKey]; k != nil {
					if k.CoinflowTransaction == nil || *k.CoinflowTransaction == w.Transaction {
						p = k
					} else {
						keyTaken = true
					}
				}
			}
			if p == nil {
				np, err := r.discover(ctx, a, w, keyTaken)
				if err != nil {
					return err
				}
				byTx[w.Transaction] = np
				a.add("payouts_discovered", 1)
				seen = append(seen, np.ID)
				continue
			}
			healed, err := r.compare(ctx, a, p, w)
			if err != nil {
				return err
			}
			if healed {
				a.add("payouts_healed", 1)
			}
			seen = append(seen, p.ID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	st.seen.add(seen...)
	for k, v := range a.counts {
		st.add(k, v)
	}
	return nil
}

// coinflowStatus maps a withdraw status to payoutd's.
func coinflowStatus(s string) (models.PayoutStatus, bool) {
	switch s {
	case coinflow.WithdrawPending:
		return models.StatusPending, true
	case coinflow.WithdrawInReview:
		return models.StatusInReview, true
	case coinflow.WithdrawCompleted:
		return models.StatusCompleted, true
	case coinflow.WithdrawFailed:
		return models.StatusFailed, true
	}
	return "", false
}

// withdrawFields are the columns Coinflow is the source of truth for.
func withdrawFields(p *models.Payout, w *coinflow.Withdraw) map[string]any {
	f := map[string]any{}
	if p.CoinflowTransaction == nil {
		f["coinflow_transaction"] = w.Transaction
	}
	if w.TransferID != "" && (p.CoinflowTransferID == nil || *p.CoinflowTransferID != w.TransferID) {
		f["coinflow_transfer_id"] = w.TransferID
	}
	if w.Speed != "" && (p.EffectiveSpeed == nil || *p.EffectiveSpeed != w.Speed) {
		f["effective_speed"] = w.Speed
	}
	if w.ExpectedDeliveryDate != nil && (p.ExpectedDeliveryAt == nil || !p.ExpectedDeliveryAt.Equal(*w.ExpectedDeliveryDate)) {
		f["expected_delivery_at"] = w.ExpectedDeliveryDate.UTC()
	}
	if fees, err := w.MerchantPaidFees.Total(); err == nil && fees.Currency != "" && (fees.Cents != p.MerchantFees.Cents || fees.Currency != p.MerchantFees.Currency) {
		f["merchant_fees_cents"], f["merchant_fees_currency"] = fees.Cents, fees.Currency
	}
	if fees, err := w.UserPaidFees.Total(); err == nil && fees.Currency != "" && (fees.Cents != p.UserFees.Cents || fees.Currency != p.UserFees.Currency) {
		f["user_fees_cents"], f["user_fees_currency"] = fees.Cents, fees.Currency
	}
	if w.ReturnStatus != "" && (p.ReturnStatus == nil || *p.ReturnStatus != w.ReturnStatus) {
		f["return_status"] = w.ReturnStatus
		if w.ReturnedAt != nil {
			f["returned_at"] = w.ReturnedAt.UTC()
		}
	}
	return f
}

func evidenceAt(w *coinflow.Withdraw) models.PayoutEvidence {
	at := w.UpdatedAt
	if at.IsZero() {
		at = w.CreatedAt
	}
	status, _ := coinflowStatus(w.Status)
	return models.PayoutEvidence{Status: status, At: at, Source: models.SourceReconcile}
}

// compare brings p up to date with w where Coinflow is ahead and raises
// what does not agree. It reports whether the status was healed.
func (r *Reconciler) compare(ctx context.Context, a *attempt, p *models.Payout, w *coinflow.Withdraw) (bool, error) {
	tx := a.tx
	fields := withdrawFields(p, w)
	amount := models.Money{Cents: w.Amount.Cents, Currency: w.Amount.Currency}
	if p.Source == models.OriginDiscovered {
		// Known here only because a webhook told of it: still money that
		// left the wallet without payoutd being asked. Same identity as a
		// payout this run discovers itself.
		if err := a.raise(ctx, models.Finding{
			Kind: models.KindMissingLocally, Subject: w.Transaction, Severity: models.SeverityWarning, PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{"transaction": w.Transaction, "amount": amount, "status": w.Status, "speed": w.Speed},
		}); err != nil {
			return false, err
		}
	}
	if amount != p.Amount {
		if p.Source == models.OriginDiscovered {
			// Its amount came from a webhook's total, whose meaning Coinflow
			// does not define; the withdraw record is authoritative.
			fields["amount_cents"], fields["amount_currency"] = amount.Cents, amount.Currency
		} else if err := a.raise(ctx, models.Finding{
			Kind: models.KindAmountMismatch, Subject: p.ID, Severity: models.SeverityError, PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{"local": p.Amount, "coinflow": amount, "transaction": w.Transaction},
		}); err != nil {
			return false, err
		}
	}
	if err := tx.PayoutUpdateFieldsUnchanged(ctx, p, fields); err != nil {
		return false, err
	}
	ev := evidenceAt(w)
	if ev.Status == "" {
		return false, nil // a status this version does not know: fields only
	}
	if ch := models.Transition(p.State(), ev); !ch.Apply {
		if p.Status == ev.Status {
			return false, nil // agrees: no history row for every run that sees it
		}
		// A disagreement Coinflow is not ahead on: a finding, and a stale
		// history row when the finding opens, not again on every run.
		reason, sev := "local_ahead", models.SeverityWarning
		if ch.Conflict {
			reason, sev = "contradiction", models.SeverityError // e.g. completed here, failed there
		}
		opened, err := a.raiseOpened(ctx, models.Finding{
			Kind: models.KindStatusMismatch, Subject: p.ID, Severity: sev, PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{"reason": reason, "local_status": p.Status, "coinflow_status": w.Status, "transaction": w.Transaction},
		})
		if err != nil || !opened {
			return false, err
		}
		_, err = tx.PayoutApply(ctx, p, ev, nil, nil)
		return false, err
	}
	ch, err := tx.PayoutApply(ctx, p, ev, nil, nil)
	if err != nil {
		return false, err
	}
	if ch.Conflict {
		// Coinflow moved a finished payout to the other outcome (a bank
		// return, a manual success): healed, and finance must see it. Kept
		// under its own subject so that reconciliation never resolves it.
		return true, a.raise(ctx, models.Finding{
			Kind: models.KindStatusMismatch, Subject: "terminal:" + p.ID, Severity: models.SeverityError, PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{"reason": "terminal_status_changed", "source": models.SourceReconcile, "status": ch.Next.Status, "coinflow_status": w.Status},
		})
	}
	return true, nil
}

// discover records a withdraw payoutd has no record of: a discovered payout,
// and a missing_locally finding (kept open until someone acknowledges it:
// money left the wallet without payoutd being asked).
func (r *Reconciler) discover(ctx context.Context, a *attempt, w *coinflow.Withdraw, keyTaken bool) (*models.Payout, error) {
	tx := a.tx
	ev := evidenceAt(w)
	status := ev.Status
	if status == "" {
		status = models.StatusPending
	}
	userID := w.UserID
	if userID == "" {
		userID = w.Withdrawer.ID
	}
	p := &models.Payout{
		UserID: userID, Amount: models.Money{Cents: w.Amount.Cents, Currency: w.Amount.Currency},
		Status: status, StatusAt: ev.At, CoinflowTransaction: &w.Transaction, Source: models.OriginDiscovered,
		CreatedAt: w.CreatedAt, // when the money left, not when payoutd learned of it
	}
	if w.IdempotencyKey != "" && !keyTaken {
		p.IdempotencyKey = &w.IdempotencyKey
	}
	if err := tx.PayoutCreate(ctx, p, models.SourceReconcile, nil); err != nil {
		return nil, err
	}
	if err := tx.PayoutUpdateFields(ctx, p.ID, withdrawFields(p, w)); err != nil {
		return nil, err
	}
	details := models.Details{"transaction": w.Transaction, "amount": p.Amount, "status": w.Status, "speed": w.Speed}
	if keyTaken {
		details["reason"] = "idempotency_key_belongs_to_another_payout"
	}
	return p, a.raise(ctx, models.Finding{
		Kind: models.KindMissingLocally, Subject: w.Transaction, Severity: models.SeverityWarning,
		PayoutID: &p.ID, UserID: &p.UserID, Details: details,
	})
}

// findMissingAtCoinflow raises missing_at_coinflow for local payouts in the
// window, past the grace period, that the stream did not show. A payout
// with a transaction is first confirmed with a single get, so a page that
// shifted under the stream never makes a false finding.
func (r *Reconciler) findMissingAtCoinflow(ctx context.Context, st *runState) error {
	var unseen []string
	limit := 10 * r.cfg.MaxConfirmations
	err := r.store.PayoutEachIDExpectedAtCoinflow(ctx, st.since, st.now.Add(-r.cfg.MissingGrace), func(id string) error {
		if st.seen.has(id) {
			return nil
		}
		if len(unseen) == limit {
			return fmt.Errorf("more than %d payouts absent from Coinflow's list", limit)
		}
		unseen = append(unseen, id)
		return nil
	})
	if err != nil {
		return err
	}
	missing, err := r.store.PayoutListByIDs(ctx, unseen)
	if err != nil {
		return err
	}
	confirmations := 0
	for i := range missing {
		p := &missing[i]
		if p.CoinflowTransaction != nil {
			if confirmations >= r.cfg.MaxConfirmations {
				return fmt.Errorf("%d payouts absent from the list could not all be confirmed", len(missing))
			}
			confirmations++
			w, err := r.cf.GetWithdraw(ctx, *p.CoinflowTransaction)
			switch {
			case err == nil:
				if w.Status == coinflow.WithdrawPending && p.Status == models.StatusInReview {
					// The single get has no in_review (IWithdraw.status): a
					// payout in review shows there as pending.
					w.Status = coinflow.WithdrawInReview
				}
				if err := r.comparePage(ctx, st, newPage(0, []coinflow.Withdraw{*w})); err != nil {
					return err
				}
				continue
			case !errors.Is(err, coinflow.ErrNotFound):
				return fmt.Errorf("confirm withdraw: %w", err)
			}
		}
		sev := models.SeverityError
		if p.Status == models.StatusRequested || p.Status == models.StatusUnknown {
			sev = models.SeverityWarning // never confirmed by Coinflow: perhaps never sent
		}
		if err := r.raise(ctx, r.store, st, models.Finding{
			Kind: models.KindMissingAtCoinflow, Subject: p.ID, Severity: sev, PayoutID: &p.ID, UserID: &p.UserID,
			Details: models.Details{"status": p.Status, "transaction": p.CoinflowTransaction, "idempotency_key": p.IdempotencyKey, "created_at": p.CreatedAt},
		}); err != nil {
			return err
		}
		st.add("missing_at_coinflow", 1)
	}
	return nil
}
