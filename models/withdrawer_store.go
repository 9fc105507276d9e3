package models

import (
	"context"
	"fmt"
)

// WithdrawerGet loads one withdrawer.
func (s *Store) WithdrawerGet(ctx context.Context, userID string) (*Withdrawer, error) {
	return first[Withdrawer](s.db.WithContext(ctx).Where("user_id = ?", userID), "withdrawer "+userID)
}

// WithdrawerHistoryList returns a withdrawer's history, oldest first.
func (s *Store) WithdrawerHistoryList(ctx context.Context, userID string) ([]WithdrawerHistory, error) {
	var hs []WithdrawerHistory
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("list withdrawer history %s: %w", userID, translate(err))
	}
	return hs, nil
}
