package models_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// TestWithdrawerListPagesNewestFirst: the list is newest first, user id
// breaking ties, filters by status and blocked, and its pages neither
// repeat nor skip a withdrawer.
func TestWithdrawerListPagesNewestFirst(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, s *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		yes := true
		seed := []struct {
			user    string
			status  models.VerificationStatus
			blocked bool
			after   time.Duration // since the one before
		}{
			{"u-a", models.VerificationPending, false, 0},
			{"u-c", models.VerificationApproved, false, time.Minute},
			{"u-b", models.VerificationPending, true, 0}, // the same time as u-c
			{"u-d", models.VerificationPending, false, 0},
			{"u-e", models.VerificationRejected, true, time.Minute},
			{"u-f", models.VerificationPending, false, time.Minute},
		}
		for _, w := range seed {
			clock.Advance(w.after)
			d := decide.Withdrawer(nil, decide.Verification{
				Source: models.SourceAPI, UserID: w.user, Wallet: "w-" + w.user, Blockchain: "user",
				EmailMasked: "a***@example.com", Status: w.status, At: clock.Now(), Blocked: &w.blocked,
			})
			_, err := s.WithdrawerWrite(ctx, d.Write)
			require.NoError(t, err)
		}
		all := func(f models.WithdrawerFilter) []string {
			t.Helper()
			var users []string
			for pages := 0; ; pages++ {
				require.Less(t, pages, 10)
				ws, next, err := s.WithdrawerList(ctx, f)
				require.NoError(t, err)
				require.LessOrEqual(t, len(ws), 2)
				for _, w := range ws {
					users = append(users, w.UserID)
				}
				if next == "" {
					return users
				}
				f.Cursor = next
			}
		}
		two := models.Page{Limit: 2}
		require.Equal(t, []string{"u-f", "u-e", "u-d", "u-c", "u-b", "u-a"}, all(models.WithdrawerFilter{Page: two}))
		require.Equal(t, []string{"u-f", "u-d", "u-b", "u-a"}, all(models.WithdrawerFilter{Status: models.VerificationPending, Page: two}))
		require.Equal(t, []string{"u-e", "u-b"}, all(models.WithdrawerFilter{Blocked: &yes, Page: two}))
		require.Equal(t, []string{"u-b"}, all(models.WithdrawerFilter{Status: models.VerificationPending, Blocked: &yes, Page: two}))
		require.Empty(t, all(models.WithdrawerFilter{Status: models.VerificationExpired}))

		ws, _, err := s.WithdrawerList(ctx, models.WithdrawerFilter{Page: models.Page{Limit: 1}})
		require.NoError(t, err)
		require.Equal(t, "u-f", ws[0].UserID)
		require.Equal(t, "w-u-f", ws[0].Wallet, "every column is read")
		require.Equal(t, clock.Now(), ws[0].CreatedAt.UTC())

		_, _, err = s.WithdrawerList(ctx, models.WithdrawerFilter{Page: models.Page{Cursor: "not-a-cursor"}})
		require.ErrorIs(t, err, models.ErrBadCursor)
	})
}
