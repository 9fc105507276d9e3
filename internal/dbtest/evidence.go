package dbtest

import (
	"context"
	"fmt"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/models"
)

// Apply has package decide apply ev to the stored payout id, as the
// applier or the reconciler would, through the store's one write path, and
// returns the decision. ev names the payout by its transaction and
// idempotency key; a seeded payout with neither (one that never reached
// Coinflow) is named for the decision by a key it holds only meanwhile.
func Apply(ctx context.Context, store *models.Store, id string, ev decide.Withdrawal) (decide.Decision, error) {
	var d decide.Decision
	err := store.Tx(ctx, func(tx *models.Store) error {
		p, err := tx.PayoutGet(ctx, id)
		if err != nil {
			return err
		}
		unnamed := p.CoinflowTransaction == nil && p.IdempotencyKey == nil
		if unnamed {
			key := "seed-" + id
			if err := setKey(ctx, tx, id, &key); err != nil {
				return err
			}
			p.IdempotencyKey = &key
		}
		if p.CoinflowTransaction != nil {
			ev.Transaction = *p.CoinflowTransaction
		}
		if p.IdempotencyKey != nil {
			ev.IdempotencyKey = *p.IdempotencyKey
		}
		d, err = decide.Payout(models.PayoutCandidates{ByTransaction: p, ByKey: p}, ev, models.NewID)
		if err != nil {
			return err
		}
		if _, err = tx.PayoutWrite(ctx, d.Write); err != nil || !unnamed {
			return err
		}
		d.Write.New.IdempotencyKey = nil
		return setKey(ctx, tx, id, nil)
	})
	if err != nil {
		return d, fmt.Errorf("apply %s evidence to payout %s: %w", ev.Status, id, err)
	}
	return d, nil
}

func setKey(ctx context.Context, tx *models.Store, id string, key *string) error {
	return tx.DB().WithContext(ctx).Model(&models.Payout{}).Where("id = ?", id).UpdateColumn("idempotency_key", key).Error
}
