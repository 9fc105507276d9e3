package reconcile_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// Stored amounts that add up past int64 stop the wallet check alone, and
// the run says which check and which sum, in its own words.
func TestWalletCheckNamesASumThatOverflows(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		b.runOK(t)
		dbtest.InsertPayouts(t, b.store, dbtest.OverflowingPayouts(b.clock.Now())...)
		b.tick(time.Minute)
		run := b.run(t)
		require.Equal(t, models.RunPartial, run.Outcome)
		require.Equal(t, models.Details{"wallet": "sum payouts in flight: sum of payout amounts and fees overflows int64"}, run.Problems)
	})
}

func TestWalletDriftNamesASumThatOverflows(t *testing.T) {
	t.Parallel()
	each(t, options{}, func(t *testing.T, b *bundle) {
		b.runOK(t)
		b.tick(time.Minute)
		ps := dbtest.OverflowingPayouts(b.clock.Now().Add(-30 * time.Second)) // after the first snapshot
		for i := range ps {
			ps[i].Status = models.StatusCompleted // settled: not in flight, but debited
		}
		dbtest.InsertPayouts(t, b.store, ps...)
		run := b.run(t)
		require.Equal(t, models.RunPartial, run.Outcome)
		require.Equal(t, models.Details{"wallet": "sum payouts debited: sum of payout amounts and fees overflows int64"}, run.Problems)
		require.Len(t, b.snapshots(t), 2, "the balance is recorded before the interval is explained")
	})
}
