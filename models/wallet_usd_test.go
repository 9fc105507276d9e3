package models_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// usdDay is noon, so that payouts two hours either side share its date.
var usdDay = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// seedCurrencies writes USD, EUR, GBP and BRL payouts, priced and not. In
// (usdDay, +1h] it debits USD 10,000+250 and 1,000+10, EUR 21,960 and BRL
// 90,150 (USD cents); in (+1h, +2h] a GBP payout nobody priced is debited
// and three payouts created two hours before usdDay are refunded: EUR
// 5,430, USD 3,000+30 and a BRL one nobody priced.
func seedCurrencies(t *testing.T, s *models.Store) {
	t.Helper()
	at := func(m int) time.Time { return usdDay.Add(time.Duration(m) * time.Minute) }
	refunded := func(p dbtest.RawPayout, returned time.Time) dbtest.RawPayout {
		p.CreatedAt, p.Status, p.ReturnStatus, p.ReturnedAt = usdDay.Add(-2*time.Hour), models.StatusFailed, models.ReturnStatusCompleted, &returned
		return p
	}
	dbtest.InsertPayouts(t, s,
		dbtest.RawPayout{ID: "usd", Cents: 10_000, MerchantFeesCents: 250, CreatedAt: at(10), Status: models.StatusCompleted},
		dbtest.RawPayout{ID: "eur", Currency: "EUR", Cents: 20_000, MerchantFeesCents: 300, CreatedAt: at(20),
			WalletDebitCents: ptrTo[int64](21_960), ExchangeRate: "1.083"},
		dbtest.RawPayout{ID: "brl", Currency: "BRL", Cents: 500_000, CreatedAt: at(30), Status: models.StatusCompleted,
			WalletDebitCents: ptrTo[int64](90_150), ExchangeRate: "0.18"},
		// Never reached Coinflow: not the wallet's, but in flight.
		dbtest.RawPayout{ID: "eur-unsent", Currency: "EUR", Cents: 4_000, CreatedAt: at(40), Status: models.StatusRequested, Transaction: "-"},
		// A USD payout costs its amount and fees: a wallet debit beside
		// them is not read.
		dbtest.RawPayout{ID: "usd-debit", Cents: 1_000, MerchantFeesCents: 10, CreatedAt: at(50), WalletDebitCents: ptrTo[int64](999_999)},
		dbtest.RawPayout{ID: "gbp-unpriced", Currency: "GBP", Cents: 7_000, CreatedAt: at(70)},
		refunded(dbtest.RawPayout{ID: "eur-back", Currency: "EUR", Cents: 5_000, WalletDebitCents: ptrTo[int64](5_430)}, at(80)),
		refunded(dbtest.RawPayout{ID: "usd-back", Cents: 3_000, MerchantFeesCents: 30}, at(90)),
		refunded(dbtest.RawPayout{ID: "brl-back-unpriced", Currency: "BRL", Cents: 9_000}, at(100)),
	)
}

func TestWalletMovementIsInUSD(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		seedCurrencies(t, s)
		times := []time.Time{usdDay, usdDay.Add(time.Hour), usdDay.Add(2 * time.Hour)}
		want := []models.WalletMovement{
			{},
			{PayoutsCents: 11_000, FeesCents: 260, ForeignCents: 21_960 + 90_150},
			{RefundedCents: 5_430 + 3_030, Unpriced: 2},
		}
		steps, err := s.WalletMovementPerStep(ctx, times)
		require.NoError(t, err)
		require.Equal(t, want, steps)
		for i := 1; i < len(times); i++ {
			mv, err := s.WalletMovementBetween(ctx, times[i-1], times[i])
			require.NoError(t, err)
			require.Equal(t, want[i], mv, "(%s, %s]", times[i-1], times[i])
		}
		explained, err := want[1].Explained()
		require.NoError(t, err)
		require.EqualValues(t, -(11_000 + 260 + 21_960 + 90_150), explained)

		// Over both steps at once, the foreign refunds' debits (two hours
		// earlier) are still outside.
		mv, err := s.WalletMovementBetween(ctx, times[0], times[2])
		require.NoError(t, err)
		sum, err := want[1].Plus(want[2])
		require.NoError(t, err)
		require.Equal(t, sum, mv)
	})
}

func TestPayoutSumInFlightIsInUSD(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		seedCurrencies(t, s)
		got, err := s.PayoutSumInFlight(t.Context())
		require.NoError(t, err)
		// EUR 21,960 and USD 1,000+10 priced; the unsent EUR and the GBP
		// payouts are in flight without a price. Completed and failed ones
		// are settled.
		require.Equal(t, models.InFlight{Cents: 21_960 + 1_010, Unpriced: 2}, got)
	})
}

// The report's one pass keeps apart what the wallet debits need: whether
// a payout reached Coinflow, and the wallet debits Coinflow priced, counted
// and summed apart from the amounts (package report costs the groups).
func TestReportGroupsKeepWhatWalletDebitsNeed(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		seedCurrencies(t, s)
		groups, err := s.ReportGroups(t.Context(), usdDay.Add(-12*time.Hour), usdDay.Add(12*time.Hour), 100_000_000)
		require.NoError(t, err)
		type debits struct {
			Reached            bool
			Count, Cents, Fees int64
			Priced, DebitCents int64
			RefundedCount      int64
		}
		got := map[string]debits{}
		for _, g := range groups {
			k := g.Currency
			if !g.Reached {
				k += " unsent"
			}
			d := got[k]
			d.Reached = g.Reached
			d.Count += g.Count
			d.Cents += g.Cents
			d.Fees += g.MerchantFees.Cents
			d.Priced += g.WalletDebit.Count
			d.DebitCents += g.WalletDebit.Cents
			if g.Status == string(models.StatusFailed) && g.ReturnStatus != nil && *g.ReturnStatus == models.ReturnStatusCompleted {
				d.RefundedCount += g.Count
			}
			got[k] = d
		}
		require.Equal(t, map[string]debits{
			"BRL":        {Reached: true, Count: 2, Cents: 509_000, Priced: 1, DebitCents: 90_150, RefundedCount: 1},
			"EUR":        {Reached: true, Count: 2, Cents: 25_000, Fees: 300, Priced: 2, DebitCents: 21_960 + 5_430, RefundedCount: 1},
			"EUR unsent": {Count: 1, Cents: 4_000},
			"GBP":        {Reached: true, Count: 1, Cents: 7_000},
			"USD":        {Reached: true, Count: 3, Cents: 14_000, Fees: 290, Priced: 1, DebitCents: 999_999, RefundedCount: 1},
		}, got)
	})
}

// debited is a payout in currency created at at whose wallet debit is
// cents.
func debited(id, currency string, cents int64, at time.Time) dbtest.RawPayout {
	return dbtest.RawPayout{ID: id, Currency: currency, Cents: 1, CreatedAt: at, WalletDebitCents: &cents}
}

// Wallet debits of foreign payouts that add up past int64 are ErrOverflow
// wherever they are summed: in flight, debited, refunded, reported.
func TestForeignWalletDebitsOverflowingInt64AreErrOverflow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		returned := usdDay.Add(30 * time.Hour)
		back := func(p dbtest.RawPayout) dbtest.RawPayout {
			p.Status, p.ReturnStatus, p.ReturnedAt = models.StatusFailed, models.ReturnStatusCompleted, &returned
			return p
		}
		dbtest.InsertPayouts(t, s,
			debited("eur-max", "EUR", math.MaxInt64, usdDay), debited("eur-one", "EUR", 1, usdDay),
			back(debited("brl-back-max", "BRL", math.MaxInt64, usdDay.Add(-48*time.Hour))),
			back(debited("gbp-back-one", "GBP", 1, usdDay.Add(-48*time.Hour))),
		)
		debits := []time.Time{usdDay.Add(-time.Hour), usdDay}
		credits := []time.Time{returned.Add(-time.Hour), returned}
		for name, sum := range map[string]func() error{
			"PayoutSumInFlight": func() error { _, err := s.PayoutSumInFlight(ctx); return err },
			"WalletMovementBetween debits": func() error {
				_, err := s.WalletMovementBetween(ctx, debits[0], debits[1])
				return err
			},
			"WalletMovementPerStep debits": func() error { _, err := s.WalletMovementPerStep(ctx, debits); return err },
			"WalletMovementBetween credits": func() error {
				_, err := s.WalletMovementBetween(ctx, credits[0], credits[1])
				return err
			},
			"WalletMovementPerStep credits": func() error { _, err := s.WalletMovementPerStep(ctx, credits); return err },
			"ReportGroups": func() error {
				_, err := s.ReportGroups(ctx, usdDay.Add(-time.Hour), usdDay.Add(time.Hour), 100_000_000)
				return err
			},
		} {
			t.Run(name, func(t *testing.T) { requireOverflow(t, sum(), name) })
		}
	})
}

// A USD amount and a foreign debit are summed apart and each fits; what
// they cost together does not.
func TestUSDAndForeignCostsOverflowingTogetherAreErrOverflow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		dbtest.InsertPayouts(t, s, dbtest.RawPayout{ID: "usd-max", Cents: math.MaxInt64, CreatedAt: usdDay},
			debited("eur-one", "EUR", 1, usdDay))
		_, err := s.PayoutSumInFlight(ctx)
		requireOverflow(t, err, "in flight")
		requireExplainedOverflows(t, s, usdDay.Add(-time.Hour), usdDay, models.WalletMovement{PayoutsCents: math.MaxInt64, ForeignCents: 1})
	})
}

// requireExplainedOverflows requires the movement in (from, to] to be want,
// its figures each fitting, and what it explains not to fit.
func requireExplainedOverflows(t *testing.T, s *models.Store, from, to time.Time, want models.WalletMovement) {
	t.Helper()
	mv, err := s.WalletMovementBetween(t.Context(), from, to)
	require.NoError(t, err)
	require.Equal(t, want, mv)
	_, err = mv.Explained()
	requireOverflow(t, err, "explained")
}

// A step is (previous time, time]: a payout debited at a step's time is in
// that step, one a microsecond later in the next, however the database
// puts payouts in steps (PostgreSQL sums them per step itself).
func TestWalletMovementPerStepEdges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		times := []time.Time{usdDay, usdDay.Add(time.Hour), usdDay.Add(time.Hour), usdDay.Add(2 * time.Hour)}
		dbtest.InsertPayouts(t, s,
			dbtest.RawPayout{ID: "at-first", Cents: 1, CreatedAt: times[0]},
			dbtest.RawPayout{ID: "after-first", Cents: 10, CreatedAt: times[0].Add(time.Microsecond)},
			dbtest.RawPayout{ID: "at-second", Cents: 100, CreatedAt: times[1]},
			dbtest.RawPayout{ID: "after-second", Cents: 1_000, CreatedAt: times[1].Add(time.Microsecond)},
			dbtest.RawPayout{ID: "at-last", Cents: 10_000, CreatedAt: times[3]},
			dbtest.RawPayout{ID: "after-last", Cents: 100_000, CreatedAt: times[3].Add(time.Microsecond)},
		)
		steps, err := s.WalletMovementPerStep(t.Context(), times)
		require.NoError(t, err)
		require.Equal(t, []models.WalletMovement{{}, {PayoutsCents: 110}, {}, {PayoutsCents: 11_000}}, steps,
			"two snapshots at one time make an empty step between them")
		for i := 1; i < len(times); i++ {
			mv, err := s.WalletMovementBetween(t.Context(), times[i-1], times[i])
			require.NoError(t, err)
			require.Equal(t, steps[i], mv, "step %d", i)
		}
	})
}
