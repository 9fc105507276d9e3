package models

import (
	"context"
	"fmt"
)

// PayoutByCoinflowID loads the payout a Coinflow withdraw id names: its
// transaction signature or its transfer id, the two ids Coinflow's single
// get accepts. A payout whose transaction is id wins over one whose transfer
// id is. nil when no payout has it. In a transaction on PostgreSQL the row
// is locked until commit.
func (s *Store) PayoutByCoinflowID(ctx context.Context, id string) (*Payout, error) {
	if id == "" {
		return nil, nil
	}
	var ps []Payout
	q := s.forUpdate(s.db.WithContext(ctx)).
		Where("coinflow_transaction = ? OR coinflow_transfer_id = ?", id, id).Order("id")
	if err := q.Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("find payout by coinflow id: %w", translate(err))
	}
	var found *Payout
	for i := range ps {
		if Deref(ps[i].CoinflowTransaction) == id {
			return &ps[i], nil
		}
		if found == nil {
			found = &ps[i]
		}
	}
	return found, nil
}
