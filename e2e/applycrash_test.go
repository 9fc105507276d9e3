package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// applyCrashTransactions withdrawals give about 10,000 stored events: a
// backlog the appliers take seconds to work off, so that a kill lands in
// the middle of set batches.
const applyCrashTransactions = 6000

// TestCrashDuringSetApply kills payoutd with SIGKILL twice while its
// appliers work off a backlog in sets (several batches in flight on
// PostgreSQL), restarting it each time. Afterwards every stored event is
// applied exactly once (one history row each), and every payout ends where
// its events lead, as if nothing had happened.
func TestCrashDuringSetApply(t *testing.T) {
	dbURL := dbtest.PostgresURL(t)
	bin := buildPayoutd(t, "")
	// Small batches: many transactions in flight and committing while the
	// kills land. The first start migrates the database; the backlog is
	// then stored behind the daemon's back, as the endpoint would store it.
	d := launchDaemon(t, bin, dbURL, map[string]string{"PAYOUTD_APPLIER_BATCH_SIZE": "50"})
	d.waitReady(30 * time.Second)
	d.kill()
	db := openDB(t, dbURL)
	plan := newCrashPlan(t, applyCrashTransactions)
	storeBacklog(t, dbURL, plan)
	n := int64(len(plan.events))

	applied := func() int64 { return countRows(t, db, "SELECT COUNT(*) FROM inbox_events WHERE status = 'applied'") }
	for kill, frac := range []float64{0.25, 0.6} {
		d.start()
		d.waitReady(30 * time.Second)
		threshold := int64(float64(n) * frac)
		deadline := time.Now().Add(3 * time.Minute)
		for applied() < threshold {
			require.True(t, time.Now().Before(deadline), "kill %d: %d of %d applied after 3 minutes", kill+1, applied(), n)
			time.Sleep(5 * time.Millisecond)
		}
		status, body, err := d.get("/metrics", "")
		require.NoError(t, err)
		require.Equal(t, 200, status)
		require.Contains(t, string(body), `payoutd_webhook_apply_batches_total{mode="set"}`, "the appliers applied sets")
		d.kill()
		t.Logf("SIGKILL %d with %d of %d events applied", kill+1, applied(), n)
	}
	got := applied()
	require.Less(t, got, n, "the second kill came before the backlog was worked off")

	d.start()
	d.waitReady(30 * time.Second)
	waitDrained(t, db, crashDrainStall, crashDrainLimit)
	checkCrashOutcome(t, db, plan)
}

// storeBacklog stores the plan's events in the inbox, pending, with the
// keys and decoded fields the endpoint gives them.
func storeBacklog(t *testing.T, dbURL string, plan crashPlan) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	store, err := models.Open(ctx, models.Options{URL: dbURL})
	require.NoError(t, err)
	defer store.Close()
	const chunk = 500
	for start := 0; start < len(plan.events); start += chunk {
		var evs []models.InboxEvent
		for _, ev := range plan.events[start:min(start+chunk, len(plan.events))] {
			p := inbox.Parse(ev.body)
			require.NoError(t, p.Err)
			txn, user := inbox.Subject(p.Value)
			hash := inbox.ContentHash(p.Value)
			evs = append(evs, models.InboxEvent{
				Body: ev.body, DedupKey: ev.key, EventType: ev.eventType, ContentHash: &hash,
				SubjectTransaction: models.NonEmpty(txn), SubjectUserID: models.NonEmpty(user),
			})
		}
		inserted, err := store.InboxInsert(ctx, evs)
		require.NoError(t, err)
		require.NotContains(t, inserted, false)
	}
	require.True(t, strings.HasPrefix(plan.events[0].key, "ev:"))
}
