package kyc

import (
	"context"
	"fmt"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
)

// chunk is how many withdrawers of Coinflow's list are held at once.
const chunk = 500

// ListResult is what one pass over Coinflow's withdrawer list did.
type ListResult struct {
	Listed  int64 // withdrawers Coinflow listed
	Changed int64 // withdrawers whose record changed
	// StillPending counts pending withdrawers the list says are still
	// pending.
	StillPending int64
}

// ListOptions choose what a pass over the list does.
type ListOptions struct {
	// OnlyPending limits the pass to withdrawers payoutd holds as pending
	// (the follower); otherwise every listed withdrawer is synced
	// (reconciliation), and ones payoutd did not know are recorded.
	OnlyPending bool
	// RunID names the reconciliation run, if any.
	RunID *string
	// StillPending is called with each chunk's pending withdrawers that
	// the list says are still pending.
	StillPending func(userIDs []string) error
}

// SyncList streams Coinflow's withdrawer list (GET /merchant/withdrawers)
// and records what it says, a chunk at a time: memory stays one chunk
// however many withdrawers the merchant has. A withdrawer whose status and
// blocked flag agree with payoutd's costs one bulk update per chunk (its
// sync time); only one that differs goes through a decision.
func SyncList(ctx context.Context, store *models.Store, cf *coinflow.Client, opts ListOptions) (ListResult, error) {
	var (
		res   ListResult
		batch = make([]decide.Verification, 0, chunk)
	)
	now := store.Now()
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ids := make([]string, len(batch))
		for i := range batch {
			ids[i] = batch[i].UserID
		}
		local, err := store.WithdrawerStates(ctx, ids)
		if err != nil {
			return err
		}
		var agree, still []string
		for _, v := range batch {
			cur, known := local[v.UserID]
			if opts.OnlyPending && (!known || cur.Status != models.VerificationPending) {
				continue
			}
			if known && cur.Status == v.Status && cur.Blocked == *v.Blocked {
				agree = append(agree, v.UserID)
				if v.Status == models.VerificationPending {
					still = append(still, v.UserID)
				}
				continue
			}
			changed, err := onboard.Record(ctx, store, v, opts.RunID)
			if err != nil {
				return err
			}
			if changed {
				res.Changed++
			}
		}
		if err := store.WithdrawerMarkSynced(ctx, agree, now); err != nil {
			return err
		}
		res.StillPending += int64(len(still))
		if opts.StillPending != nil && len(still) > 0 {
			if err := opts.StillPending(still); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	for w, err := range cf.EachWithdrawer(ctx, coinflow.ListWithdrawersParams{}) {
		if err != nil {
			if ferr := flush(); ferr != nil {
				return res, ferr
			}
			return res, fmt.Errorf("list withdrawers: %w", err)
		}
		res.Listed++
		v := onboard.VerificationOf(w)
		v.Source, v.At, v.SyncedAt = models.SourceReconcile, now, &now
		batch = append(batch, v)
		if len(batch) == chunk {
			if err := flush(); err != nil {
				return res, err
			}
		}
	}
	return res, flush()
}
