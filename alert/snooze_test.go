package alert

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// A snoozed finding sends no reminder while snoozed, however long past the
// renotify interval, and one reminder once the snooze has ended with the
// finding still open.
func TestNoReminderWhileSnoozed(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{})
		f := raise(t, store, models.KindStuckPayout, "p-1", models.SeverityError)
		b.tick(t)
		require.Equal(t, 1, b.hook.count(), "announced when it opened")

		until := start.Add(5 * 24 * time.Hour)
		_, err := store.FindingSnooze(t.Context(), f.ID, until, "ana", "waiting on the bank")
		require.NoError(t, err)
		b.tick(t)
		require.Equal(t, 1, b.hook.count(), "a snooze is not announced")

		// Four renotify intervals pass, reconciliation seeing it each day.
		for day := 1; day <= 4; day++ {
			clock.Set(start.Add(time.Duration(day)*24*time.Hour + time.Minute))
			raise(t, store, models.KindStuckPayout, "p-1", models.SeverityError)
			b.tick(t)
		}
		require.Equal(t, 1, b.hook.count(), "no reminder while snoozed")
		require.Equal(t, 1, b.pd.count())

		// The snooze ends: one reminder, and only one.
		clock.Set(until.Add(time.Second))
		b.tick(t)
		b.tick(t)
		require.Equal(t, 2, b.hook.count())
		got := b.hook.lastJSON(t)
		require.Equal(t, TypeOpened, got["type"])
		require.Equal(t, true, got["renotification"])
		require.Equal(t, "opened:"+f.ID+":2", got["id"])
	})
}
