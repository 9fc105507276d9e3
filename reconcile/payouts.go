package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// checkPayouts streams Coinflow's withdraws over the window and compares
// them page by page: cfg.PageWorkers pages at a time, each in its own
// transaction, while the client fetches the next cfg.PagesAhead pages
// (pages are numbered, so they need not wait for each other) and hands
// them over in stream order. Pages that share a withdraw are compared one
// after the other, in stream order (pageGate). A page that cannot be
// fetched ends the stream there, and the run is partial.
// Each withdraw is matched to a local payout, healed or raised, and
// recorded as seen. After a complete stream it looks for local payouts
// Coinflow does not have. It reports whether it saw all of Coinflow's
// withdraws in the window.
func (r *Reconciler) checkPayouts(ctx context.Context, st *runState) bool {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	params := coinflow.ListWithdrawsParams{Since: st.since, Limit: r.cfg.PageSize, Ahead: r.cfg.PagesAhead}
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
	counts map[string]int64
}

func (a *attempt) add(counter string, n int64) { a.counts[counter] += n }

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
	a := &attempt{counts: map[string]int64{}}
	var seen []string
	err := r.store.Tx(ctx, func(tx *models.Store) error {
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
			ev := evidence(&ws[i])
			c := models.PayoutCandidates{ByTransaction: byTx[ev.Transaction]}
			if ev.IdempotencyKey != "" {
				c.ByKey = byKey[ev.IdempotencyKey]
			}
			d, err := decide.Payout(c, ev, models.NewID)
			if err != nil {
				return err
			}
			d.Write.RunID = &st.run.ID
			res, err := tx.PayoutWrite(ctx, d.Write)
			if err != nil {
				return err
			}
			a.add("findings_raised", int64(res.Raised))
			a.add("findings_opened", int64(res.Opened))
			p := d.Write.New
			// A withdraw twice on one page is decided from what the first wrote.
			byTx[ev.Transaction] = p
			if p.IdempotencyKey != nil {
				byKey[*p.IdempotencyKey] = p
			}
			switch {
			case d.Discovered:
				a.add("payouts_discovered", 1)
			case d.Healed:
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
