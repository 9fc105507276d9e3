package reconcile_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// TestRunKeepsNothingOfItsStateAlive: the run RunOnce returns may be kept
// (the API, alerting); it must not hold what the run needed while going,
// such as the set of the payouts it saw. Not parallel, so that no other
// test's allocations are in the heap readings.
func TestRunKeepsNothingOfItsStateAlive(t *testing.T) {
	clock := dbtest.NewClock(start)
	b := setup(t, dbtest.SQLite(t, dbtest.Options{NowFunc: clock.Now}), clock, options{})
	b.emu.SeedSynthetic(10_000, nil)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC() // and what sync.Pools kept through the first
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}

	run, err := b.rec.RunOnce(t.Context(), "test")
	require.NoError(t, err)
	require.Equal(t, models.RunOK, run.Outcome)
	require.Equal(t, int64(10_000), counts(t, run)["withdraws_seen"])
	held := heap()
	runtime.KeepAlive(run)
	run = nil
	dropped := heap()
	t.Logf("heap holding the run %d KB, without it %d KB", held>>10, dropped>>10)
	require.Less(t, int64(held)-int64(dropped), int64(64<<10), "the run keeps its state alive")
}
