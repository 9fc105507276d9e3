package models

import (
	"context"
	"time"
)

// WithdrawerFilter narrows WithdrawerList. Empty fields do not filter.
type WithdrawerFilter struct {
	Status  VerificationStatus
	Blocked *bool
	Page
}

// withdrawersKeyed is the withdrawers table with the user id also named
// id: keysetPage pages by (column, id), and a withdrawer's id is its user
// id. Both databases fold the subquery into the outer query.
const withdrawersKeyed = "(SELECT withdrawers.*, user_id AS id FROM withdrawers) AS withdrawers"

// WithdrawerList returns withdrawers newest first (by when payoutd first
// recorded them, then by user id) and the cursor of the next page ("" on
// the last page).
func (s *Store) WithdrawerList(ctx context.Context, f WithdrawerFilter) ([]Withdrawer, string, error) {
	q := s.db.WithContext(ctx).Table(withdrawersKeyed)
	if f.Status != "" {
		q = q.Where("verification_status = ?", string(f.Status))
	}
	if f.Blocked != nil {
		q = q.Where("blocked = ?", *f.Blocked)
	}
	return keysetPage(q, f.Page, "created_at", "withdrawers", func(w *Withdrawer) (time.Time, string) { return w.CreatedAt, w.UserID })
}
