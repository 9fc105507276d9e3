package reconcile_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// The wallet is USD: payouts in other currencies count by the USD debit
// Coinflow priced them at. The payouts here are written straight to the
// store (the emulator pays USD only), completed unless what is in flight
// is the point, and the emulator's balance moved by hand.

// foreign is a completed payout in currency created at at that cost the
// wallet debit USD cents; nil debit for one Coinflow has not priced yet.
func foreign(id, currency string, cents int64, debit *int64, at time.Time) dbtest.RawPayout {
	return dbtest.RawPayout{ID: id, Currency: currency, Cents: cents, Status: models.StatusCompleted, CreatedAt: at,
		WalletDebitCents: debit}
}

// price sets the USD wallet debit of payout id, as reconciliation would
// once Coinflow priced it.
func (b *bundle) price(t *testing.T, id string, debit int64) {
	t.Helper()
	require.NoError(t, b.store.DB().WithContext(t.Context()).
		Exec("UPDATE payouts SET wallet_debit_cents = ? WHERE id = ?", debit, id).Error)
}

// onlyDrift requires the one unresolved wallet_drift finding to be the
// interval from prev to cur, and returns it.
func (b *bundle) onlyDrift(t *testing.T, prev, cur models.WalletSnapshot) models.Finding {
	t.Helper()
	drift := b.walletFindings(t, models.KindWalletDrift)
	require.Len(t, drift, 1)
	f, ok := drift[driftSubject(prev, cur)]
	require.True(t, ok, "drift on %s: %+v", driftSubject(prev, cur), drift)
	require.Equal(t, models.SeverityError, f.Severity)
	return f
}

// foreignDrift is the details of a wallet_drift finding from prev to cur
// where foreign payouts' USD debits explain foreignUSD of the fall and
// unexplained is left.
func foreignDrift(prev, cur models.WalletSnapshot, foreignUSD, unexplained int64) models.Details {
	return models.Details{
		"from": prev.TakenAt, "to": cur.TakenAt,
		"balance_before_cents": prev.BalanceCents, "balance_after_cents": cur.BalanceCents,
		"change_cents": unexplained - foreignUSD, "explained_cents": -foreignUSD,
		"explained_by": models.Details{
			"payouts_cents": 0, "merchant_fees_cents": 0, "foreign_payouts_usd_cents": -foreignUSD, "failures_and_returns_cents": 0,
		},
		"unexplained_cents": unexplained, "tolerance_cents": 0,
	}
}

// walletFindings is the unresolved findings of kind, by subject.
func (b *bundle) walletFindings(t *testing.T, kind models.FindingKind) map[string]models.Finding {
	t.Helper()
	var fs []models.Finding
	require.NoError(t, b.store.DB().WithContext(t.Context()).Where("kind = ? AND resolved_at IS NULL", kind).Find(&fs).Error)
	out := map[string]models.Finding{}
	for _, f := range fs {
		out[f.Subject] = f
	}
	return out
}

func TestWalletDriftIsJudgedInUSD(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		b.runOK(t)

		// USD, EUR and BRL payouts explain the fall exactly, in USD.
		b.tick(time.Minute)
		dbtest.InsertPayouts(t, b.store,
			dbtest.RawPayout{ID: "usd", Cents: 10_000, MerchantFeesCents: 250, Status: models.StatusCompleted, CreatedAt: b.clock.Now()},
			foreign("eur", "EUR", 20_000, ptr[int64](21_960), b.clock.Now()),
			foreign("brl", "BRL", 500_000, ptr[int64](90_150), b.clock.Now()),
		)
		b.emu.SetBalance(b.emu.Balance() - 10_250 - 21_960 - 90_150)
		b.tick(time.Minute)
		b.runOK(t)
		require.Len(t, b.snapshots(t), 2)
		require.Empty(t, b.walletFindings(t, models.KindWalletDrift))

		// A GBP payout, and 7.77 USD that nothing explains.
		b.tick(time.Minute)
		dbtest.InsertPayouts(t, b.store, foreign("gbp", "GBP", 5_000, ptr[int64](6_350), b.clock.Now()))
		b.emu.SetBalance(b.emu.Balance() - 6_350 - 777)
		b.tick(time.Minute)
		b.runOK(t)
		snaps := b.snapshots(t)
		require.Len(t, snaps, 3)
		requireDetails(t, foreignDrift(snaps[1], snaps[2], 6_350, -777), b.onlyDrift(t, snaps[1], snaps[2]))
	})
}

// An interval with a foreign payout Coinflow has not priced is not judged:
// the run keeps no snapshot and counts the payout, and the first run after
// the payout is priced judges the whole interval, from the same snapshot.
func TestUnpricedForeignPayoutDefersDrift(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		b.runOK(t)
		first := b.snapshots(t)[0]

		// The wallet pays 219.60 USD for it, and 0.40 goes unexplained.
		b.tick(time.Minute)
		dbtest.InsertPayouts(t, b.store, foreign("eur", "EUR", 20_000, nil, b.clock.Now()))
		b.emu.SetBalance(b.emu.Balance() - 21_960 - 40)
		for range 2 {
			b.tick(time.Minute)
			run := b.runOK(t)
			require.EqualValues(t, 1, counts(t, run)["wallet_unpriced_payouts"])
			require.Len(t, b.snapshots(t), 1, "no snapshot while the interval cannot be explained")
			require.Empty(t, b.walletFindings(t, models.KindWalletDrift), "no false drift")
		}

		b.price(t, "eur", 21_960)
		b.tick(time.Minute)
		run := b.runOK(t)
		require.NotContains(t, counts(t, run), "wallet_unpriced_payouts")
		snaps := b.snapshots(t)
		require.Len(t, snaps, 2)
		// Judged from the snapshot before the payout.
		requireDetails(t, foreignDrift(first, snaps[1], 21_960, -40), b.onlyDrift(t, first, snaps[1]))
	})
}

// What is in flight counts in USD; a foreign payout in flight without a
// price is counted, shown in the finding, and keeps an open finding from
// being resolved on a figure that leaves it out.
func TestLowBalanceCountsForeignPayoutsInUSD(t *testing.T) {
	t.Parallel()
	each(t, options{balanceCents: 100_000}, func(t *testing.T, b *bundle) {
		before := b.clock.Now().Add(-time.Hour)
		eur := foreign("eur", "EUR", 140_000, ptr[int64](150_000), before)
		brl := foreign("brl", "BRL", 50_000, nil, before)
		eur.Status, brl.Status = models.StatusPending, models.StatusPending
		dbtest.InsertPayouts(t, b.store, eur, brl)

		run := b.runOK(t)
		require.EqualValues(t, 1, counts(t, run)["wallet_unpriced_in_flight"])
		low := b.walletFindings(t, models.KindWalletLowBalance)["wallet"]
		require.Equal(t, models.SeverityError, low.Severity, "150,000 priced in flight is over the balance")
		requireDetails(t, models.Details{
			"balance_cents": 100_000, "floor_cents": 0, "in_flight_cents": 150_000, "in_flight_unpriced_payouts": 1,
		}, low)

		// The EUR payout settles: what is priced fits, the BRL payout's cost
		// is unknown, so the finding stays open.
		require.NoError(t, b.store.DB().WithContext(t.Context()).
			Exec("UPDATE payouts SET status = 'completed' WHERE id = 'eur'").Error)
		b.tick(time.Minute)
		run = b.runOK(t)
		require.EqualValues(t, 1, counts(t, run)["wallet_unpriced_in_flight"])
		require.Contains(t, b.walletFindings(t, models.KindWalletLowBalance), "wallet")

		b.price(t, "brl", 9_000)
		b.tick(time.Minute)
		run = b.runOK(t)
		require.NotContains(t, counts(t, run), "wallet_unpriced_in_flight")
		b.requireResolved(t, run, models.KindWalletLowBalance, "wallet")
	})
}
