package dashboardtest

import (
	"slices"
	"strings"

	"github.com/payoutd/payoutd/models"
)

// NewestPayouts are the ids of the seeded payouts keep keeps, newest first
// as the dashboard's lists show them (by creation, then by id).
func (fx *Fixture) NewestPayouts(keep func(p *models.Payout) bool) []string {
	var ps []*models.Payout
	for _, p := range fx.Payouts {
		if keep(p) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *models.Payout) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	var ids []string // nil when none, as a page with no rows gives
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}
