package models_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// requireOverflow holds err to a clear ErrOverflow: typed, in payoutd's
// words, without the driver's.
func requireOverflow(t *testing.T, err error, what string) {
	t.Helper()
	require.ErrorIs(t, err, models.ErrOverflow, what)
	msg := err.Error()
	require.Contains(t, msg, "overflows int64", what)
	for _, driver := range []string{"integer overflow", "out of range", "Scan error", "SQLSTATE", "float"} {
		require.NotContains(t, msg, driver, "%s: %s", what, msg)
	}
}

func TestSumsOverflowingInt64AreErrOverflow(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		// Debited on March 3; failed ones created March 1, refunded March 5.
		dbtest.InsertPayouts(t, s, dbtest.OverflowingPayouts(day.Add(33*time.Hour))...)
		returned := day.Add(81 * time.Hour)
		for _, p := range []dbtest.RawPayout{
			{ID: "failed-max", Cents: math.MaxInt64},
			{ID: "failed-one", Cents: 1},
		} {
			p.Status, p.ReturnStatus, p.CreatedAt, p.ReturnedAt = models.StatusFailed, models.ReturnStatusCompleted, day.Add(-12*time.Hour), &returned
			dbtest.InsertPayouts(t, s, p)
		}

		from, to := day.Add(-24*time.Hour), day.Add(7*24*time.Hour)
		for name, sum := range map[string]func() error{
			"ReportPayouts": func() error { _, err := s.ReportPayouts(ctx, from, to); return err },
			// With no amount above the limit, the two halves share a group.
			"ReportGroups": func() error { _, err := s.ReportGroups(ctx, from, to, math.MaxInt64); return err },
			"ReportAging": func() error {
				_, err := s.ReportAging(ctx, []time.Time{day.Add(24 * time.Hour), day})
				return err
			},
			"PayoutSumInFlight": func() error { _, err := s.PayoutSumInFlight(ctx); return err },
			"WalletMovementBetween debits": func() error {
				_, err := s.WalletMovementBetween(ctx, day.Add(24*time.Hour), day.Add(48*time.Hour))
				return err
			},
			"WalletMovementBetween credits": func() error {
				_, err := s.WalletMovementBetween(ctx, day.Add(72*time.Hour), day.Add(96*time.Hour))
				return err
			},
			"WalletMovementPerStep debits": func() error {
				_, err := s.WalletMovementPerStep(ctx, []time.Time{day, day.Add(48 * time.Hour)})
				return err
			},
			"WalletMovementPerStep credits": func() error {
				_, err := s.WalletMovementPerStep(ctx, []time.Time{day.Add(72 * time.Hour), day.Add(96 * time.Hour)})
				return err
			},
		} {
			t.Run(name, func(t *testing.T) { requireOverflow(t, sum(), name) })
		}
	})
}

// An amount plus its own fee can overflow with one row: no query may add
// the columns row by row, where PostgreSQL fails in its own words and
// SQLite turns the row into a float.
func TestAmountPlusFeeOverflowingInt64IsErrOverflow(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		returned := day.Add(48 * time.Hour)
		dbtest.InsertPayouts(t, s,
			dbtest.RawPayout{ID: "pending", Cents: math.MaxInt64, MerchantFeesCents: 1, CreatedAt: day},
			dbtest.RawPayout{ID: "returned", Cents: math.MaxInt64, MerchantFeesCents: 1, CreatedAt: day.Add(-72 * time.Hour),
				Status: models.StatusFailed, ReturnStatus: models.ReturnStatusCompleted, ReturnedAt: &returned},
		)
		_, err := s.PayoutSumInFlight(ctx)
		requireOverflow(t, err, "in flight")
		_, err = s.WalletMovementBetween(ctx, day.Add(24*time.Hour), day.Add(72*time.Hour))
		requireOverflow(t, err, "refund between")
		_, err = s.WalletMovementPerStep(ctx, []time.Time{day.Add(24 * time.Hour), day.Add(72 * time.Hour)})
		requireOverflow(t, err, "refund per step")
		// Alone, the amount and the fee are debited apart and fit.
		requireExplainedOverflows(t, s, day.Add(-time.Hour), day, models.WalletMovement{PayoutsCents: math.MaxInt64, FeesCents: 1})
	})
}

// Sums that reach the largest int64 exactly still fit, on both databases.
func TestSumsUpToMaxInt64Fit(t *testing.T) {
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		ps := dbtest.OverflowingPayouts(day)
		ps[0].Cents, ps[0].UserFeesCents, ps[0].MerchantFeesCents = math.MaxInt64-1, math.MaxInt64-1, math.MaxInt64-2
		dbtest.InsertPayouts(t, s, ps...)

		rows, err := s.ReportPayouts(ctx, day, day.Add(24*time.Hour))
		require.NoError(t, err)
		require.Len(t, rows, 1)
		require.Equal(t, models.ReportPayoutRow{Day: "2026-03-02", Status: "pending", Speed: "same_day", Currency: "USD",
			Count: 2, Cents: math.MaxInt64}, rows[0])
		groups, err := s.ReportGroups(ctx, day, day.Add(24*time.Hour), math.MaxInt64)
		require.NoError(t, err)
		require.Len(t, groups, 1)
		g := groups[0]
		require.Equal(t, [3]models.ReportSum{{Count: 2, Cents: math.MaxInt64}, {Count: 2, Cents: math.MaxInt64}, {Count: 2, Cents: math.MaxInt64 - 1}},
			[3]models.ReportSum{{Count: g.Count, Cents: g.Cents}, g.UserFees, g.MerchantFees})
		_, err = s.PayoutSumInFlight(ctx)
		requireOverflow(t, err, "amounts and fees together do not fit")

		mv, err := s.WalletMovementBetween(ctx, day.Add(-time.Hour), day)
		require.NoError(t, err)
		require.Equal(t, models.WalletMovement{PayoutsCents: math.MaxInt64, FeesCents: math.MaxInt64 - 1}, mv)
		steps, err := s.WalletMovementPerStep(ctx, []time.Time{day.Add(-time.Hour), day})
		require.NoError(t, err)
		require.Equal(t, mv, steps[1])
	})
}

func TestOverflowNamesTheSum(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		dbtest.InsertPayouts(t, s, dbtest.OverflowingPayouts(at)...)
		_, err := s.ReportPayouts(context.Background(), at.Add(-time.Hour), at.Add(time.Hour))
		require.EqualError(t, err, "report payouts: sum of payout amounts overflows int64")
		require.True(t, strings.HasSuffix(err.Error(), models.ErrOverflow.Error()))
	})
}
