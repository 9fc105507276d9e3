package inbox_test

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

const retain = 400 * 24 * time.Hour

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func newPruner(t *testing.T, store *models.Store, clock *dbtest.Clock, batch int) *inbox.Pruner {
	t.Helper()
	log := logrus.New()
	log.SetOutput(os.Stderr)
	p, err := inbox.NewPruner(store, logrus.NewEntry(log), metrics.New().NewPrune(), inbox.PruneConfig{
		RetainBodies: retain, BatchSize: batch, Pause: time.Millisecond, NowFunc: clock.Now,
	})
	require.NoError(t, err)
	return p
}

// insert stores one event per status given, at the clock's now, and sets
// each one's status.
func insert(t *testing.T, store *models.Store, tag string, statuses ...models.InboxStatus) {
	t.Helper()
	for i, st := range statuses {
		key := fmt.Sprintf("%s-%d-%s", tag, i, st)
		_, err := store.InboxInsert(t.Context(), []models.InboxEvent{{DedupKey: key, EventType: "Withdraw Pending", Body: []byte(`{"k":"` + key + `"}`)}})
		require.NoError(t, err)
		require.NoError(t, store.DB().Exec("UPDATE inbox_events SET status = ? WHERE dedup_key = ?", st, key).Error)
	}
}

func allEvents(t *testing.T, store *models.Store) []models.InboxEvent {
	t.Helper()
	var evs []models.InboxEvent
	require.NoError(t, store.DB().Order("id").Find(&evs).Error)
	return evs
}

// TestPruneClearsOnlyOldSettledBodies: only bodies older than retain_bodies
// of events that are done with (applied, or ignored without a note) are
// cleared; pending, parked and unprocessable ones, and an ignored one with
// a note, keep theirs; every row, dedup key and state stays; every batch is
// bounded.
func TestPruneClearsOnlyOldSettledBodies(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		insert(t, store, "old", models.InboxApplied, models.InboxApplied, models.InboxIgnored, models.InboxUnprocessable,
			models.InboxPending, models.InboxParked, models.InboxApplied)
		insert(t, store, "noted", models.InboxIgnored)
		require.NoError(t, store.DB().Exec("UPDATE inbox_events SET last_error = 'names no payout payoutd knows' WHERE dedup_key LIKE 'noted-%'").Error)
		clock.Advance(300 * 24 * time.Hour)
		insert(t, store, "young", models.InboxApplied, models.InboxIgnored)
		before := allEvents(t, store)
		clock.Advance(101*24*time.Hour + time.Minute) // the old ones are 401 days old, the young 101

		// Each batch covers at most its limit of index entries and rows.
		cur, cutoff := models.PruneCursor{}, clock.Now().Add(-retain)
		for range 100 {
			b, err := store.InboxPruneBodies(t.Context(), cur, cutoff, 2)
			require.NoError(t, err)
			require.LessOrEqual(t, b.Scanned, 2)
			require.LessOrEqual(t, b.Pruned, int64(2))
			if b.Done {
				break
			}
			cur = b.Next
		}
		// Undo, then prune through the job's code.
		require.NoError(t, store.DB().Exec("UPDATE inbox_events SET body_pruned_at = NULL").Error)
		for _, ev := range before {
			require.NoError(t, store.DB().Exec("UPDATE inbox_events SET body = ? WHERE id = ?", ev.Body, ev.ID).Error)
		}

		p := newPruner(t, store, clock, 2)
		res, err := p.Run(t.Context())
		require.NoError(t, err)
		require.True(t, res.Done)
		require.Equal(t, int64(4), res.Pruned, "3 applied and 1 ignored")
		require.Equal(t, 5, res.Batches, "8 old events in windows of 2, and the empty window that ends it")

		after := allEvents(t, store)
		require.Len(t, after, len(before))
		for i, ev := range after {
			was := before[i]
			require.Equal(t, was.ID, ev.ID)
			require.Equal(t, was.DedupKey, ev.DedupKey)
			require.Equal(t, was.Status, ev.Status)
			require.Equal(t, was.ReceivedAt, ev.ReceivedAt)
			old := ev.ReceivedAt.Equal(t0)
			settled := ev.Status == models.InboxApplied || ev.Status == models.InboxIgnored && ev.LastError == nil
			if old && settled {
				require.Empty(t, ev.Body, ev.DedupKey)
				require.NotNil(t, ev.BodyPrunedAt, ev.DedupKey)
				require.True(t, clock.Now().Equal(*ev.BodyPrunedAt))
			} else {
				require.Equal(t, was.Body, ev.Body, ev.DedupKey)
				require.Nil(t, ev.BodyPrunedAt, ev.DedupKey)
			}
		}
		n, err := store.InboxPrunedBodies(t.Context())
		require.NoError(t, err)
		require.Equal(t, int64(4), n)

		// Again: nothing left to prune.
		res, err = p.Run(t.Context())
		require.NoError(t, err)
		require.Zero(t, res.Pruned)

		// A parked event replayed and applied behind the cursor is pruned
		// once the pruner sets out again from the oldest event, within a day.
		require.NoError(t, store.DB().Exec("UPDATE inbox_events SET status = 'applied' WHERE status = 'parked'").Error)
		clock.Advance(time.Hour)
		res, err = p.Run(t.Context())
		require.NoError(t, err)
		require.Zero(t, res.Pruned, "behind the cursor until the rescan")
		clock.Advance(24 * time.Hour)
		res, err = p.Run(t.Context())
		require.NoError(t, err)
		require.Equal(t, int64(1), res.Pruned)
	})
}

// TestPruneOff: retain_bodies 0 prunes nothing.
func TestPruneOff(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		insert(t, store, "old", models.InboxApplied)
		clock.Advance(10 * retain)
		p, err := inbox.NewPruner(store, logrus.NewEntry(logrus.New()), nil, inbox.PruneConfig{NowFunc: clock.Now})
		require.NoError(t, err)
		res, err := p.Run(t.Context())
		require.NoError(t, err)
		require.Zero(t, res.Pruned)
		require.NotEmpty(t, allEvents(t, store)[0].Body)
	})
}

// TestPrunedEventsDuplicateIsRecognised: a very late redelivery of an event
// whose body was pruned is answered 200 duplicate and stores nothing.
func TestPrunedEventsDuplicateIsRecognised(t *testing.T) {
	body, err := os.ReadFile("../testdata/coinflow/fixtures/webhooks/withdraw-pending.json")
	require.NoError(t, err)
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		srv := testserver.Start(t, store, testserver.Options{Clock: clock})
		status, answer := srv.PostSigned(t, body)
		require.Equal(t, http.StatusOK, status, answer)
		require.Contains(t, answer, `"stored"`)
		srv.Drain(t)
		ev := allEvents(t, store)[0]
		require.NotEqual(t, models.InboxPending, ev.Status)
		require.NotEqual(t, models.InboxParked, ev.Status)

		clock.Advance(retain + time.Hour)
		res, err := newPruner(t, store, clock, 1000).Run(t.Context())
		require.NoError(t, err)
		require.Equal(t, int64(1), res.Pruned)

		status, answer = srv.PostSigned(t, body)
		require.Equal(t, http.StatusOK, status, answer)
		require.Contains(t, answer, `"duplicate"`)
		evs := allEvents(t, store)
		require.Len(t, evs, 1, "nothing new stored")
		require.Empty(t, evs[0].Body)
		require.Equal(t, ev.DedupKey, evs[0].DedupKey)
		require.Equal(t, ev.Status, evs[0].Status)
	})
}

// TestReplayOfAPrunedBodyChangesNothing: an event whose body retention
// cleared is left as it is by a replay, which says so, instead of turning
// unprocessable for want of a body.
func TestReplayOfAPrunedBodyChangesNothing(t *testing.T) {
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		insert(t, store, "untracked", models.InboxIgnored)
		clock.Advance(retain + time.Hour)
		res, err := newPruner(t, store, clock, 10).Run(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Pruned)

		ev := allEvents(t, store)[0]
		applier, err := inbox.NewApplier(store, logrus.NewEntry(logrus.New()), metrics.New(), inbox.ApplierConfig{NowFunc: clock.Now})
		require.NoError(t, err)
		r, err := applier.Replay(t.Context(), ev.ID, "test")
		require.NoError(t, err)
		require.Equal(t, inbox.ReplayPruned, *r.Outcome)
		after := allEvents(t, store)[0]
		require.Equal(t, models.InboxIgnored, after.Status)
		require.Nil(t, after.LastError)
	})
}
