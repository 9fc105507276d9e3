package report_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
	"github.com/payoutd/payoutd/report/reporttest"
)

// A report over amounts that add up past int64 fails with ErrOverflow
// naming the sum, whether the database or the report's own totals add them.
func TestBuildSaysWhichSumOverflows(t *testing.T) {
	t.Parallel()
	day := reporttest.From
	half := dbtest.RawPayout{Cents: math.MaxInt64/2 + 1, Speed: "standard"}
	// debit is a foreign payout of one cent that cost the wallet cents (USD).
	debit := func(id, currency string, cents int64, at time.Time) dbtest.RawPayout {
		return dbtest.RawPayout{ID: id, Currency: currency, Cents: 1, CreatedAt: at, WalletDebitCents: &cents}
	}
	completed := func(p dbtest.RawPayout) dbtest.RawPayout {
		p.Status = models.StatusCompleted
		return p
	}
	insert := func(ps ...dbtest.RawPayout) func(t *testing.T, s *models.Store) {
		return func(t *testing.T, s *models.Store) { dbtest.InsertPayouts(t, s, ps...) }
	}
	day1, day2 := day.Add(9*time.Hour), day.Add(33*time.Hour)
	for _, tc := range []struct {
		name  string
		seed  func(t *testing.T, s *models.Store)
		error string
	}{
		{"a row of payouts", func(t *testing.T, s *models.Store) {
			dbtest.InsertPayouts(t, s, dbtest.OverflowingPayouts(day.Add(9*time.Hour))...)
		}, "report payouts: sum of payout amounts overflows int64"},
		{"the groups' total", func(t *testing.T, s *models.Store) {
			a, b := half, half
			a.ID, a.CreatedAt = "day-one", day.Add(9*time.Hour)
			b.ID, b.CreatedAt = "day-two", day.Add(33*time.Hour)
			dbtest.InsertPayouts(t, s, a, b)
		}, "total of payouts in USD overflows int64"},
		{"the wallet's change", func(t *testing.T, s *models.Store) {
			run, err := s.RunCreate(t.Context(), "test")
			require.NoError(t, err)
			_, err = s.WalletSnapshotAdd(t.Context(), run.ID, day.Add(time.Hour), math.MaxInt64)
			require.NoError(t, err)
			_, err = s.WalletSnapshotAdd(t.Context(), run.ID, day.Add(2*time.Hour), -2)
			require.NoError(t, err)
		}, "wallet change to 2025-06-01T02:00:00Z overflows int64"},
		{"the one pass's wallet debits", insert(debit("eur-a", "EUR", math.MaxInt64, day1), debit("eur-b", "EUR", 1, day1)),
			"report payouts: sum of payout amounts, fees or wallet debits overflows int64"},
		// Payouts of one day and currency in groups apart (statuses): the
		// database's sums fit, the wallet debits' row does not.
		{"a day's wallet debits", insert(debit("eur-a", "EUR", math.MaxInt64, day1), completed(debit("eur-b", "EUR", 1, day1))),
			"report wallet debits: sum of wallet debits of foreign payouts overflows int64"},
		{"a group's amounts and fees in USD", insert(dbtest.RawPayout{ID: "usd", Cents: math.MaxInt64, MerchantFeesCents: 1, CreatedAt: day1}),
			"sum of USD debited for USD payouts on 2025-06-01 overflows int64"},
		{"a currency's wallet debits", insert(debit("eur-a", "EUR", math.MaxInt64, day1), debit("eur-b", "EUR", 1, day2)),
			"total of USD debited for payouts in EUR overflows int64"},
		{"every currency's wallet debits", insert(debit("eur", "EUR", math.MaxInt64, day1), debit("brl", "BRL", 1, day1)),
			"total of USD debited for payouts in every currency overflows int64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dbtest.Each(t, func(t *testing.T, s *models.Store) {
				tc.seed(t, s)
				_, err := report.Build(t.Context(), s, reporttest.From, reporttest.To)
				require.ErrorIs(t, err, models.ErrOverflow)
				require.EqualError(t, err, "build report 2025-06-01 to 2025-06-03: "+tc.error)
			})
		})
	}
}
