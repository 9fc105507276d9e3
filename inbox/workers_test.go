package inbox_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// TestSeveralAppliersShareTheInbox: four appliers working off one inbox
// of 1,200 shuffled events about 300 payouts (Pending, On Hold, then
// Success, each payout's events spread over the whole inbox so that
// appliers' batches name the same payouts) apply every event exactly once
// and leave every payout completed.
func TestSeveralAppliersShareTheInbox(t *testing.T) {
	const payouts = 300
	dbtest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		base := time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)
		var bodies [][]byte
		for i := range payouts {
			for j, eventType := range []string{"Withdraw Pending", "Withdraw On Hold", "Withdraw Success", "Withdraw Success"} {
				created := base.Add(time.Duration(i)*time.Second + time.Duration(min(j, 2))*time.Minute).Format("2006-01-02T15:04:05.000Z")
				bodies = append(bodies, fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":%q,"data":{"signature":"sig-%d",`+
					`"userFees":{"cents":0,"currency":"USD"},"merchantFees":{"cents":0,"currency":"USD"},"total":{"cents":%d,"currency":"USD"},`+
					`"currency":"USD","userId":"u-%d","idempotencyKey":"key-%d"}}`, eventType, created, i, 100+i, i%7, i))
			}
		}
		rand.New(rand.NewPCG(3, 4)).Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
		storeEvents(t, s, bodies)

		log := logrus.New()
		log.SetLevel(logrus.ErrorLevel)
		m := metrics.New()
		a, err := inbox.NewApplier(s, logrus.NewEntry(log), m, inbox.ApplierConfig{Workers: 4, BatchSize: 25, PollInterval: 20 * time.Millisecond})
		require.NoError(t, err)
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { a.Run(runCtx); close(done) }()
		a.Notify()
		require.Eventually(t, func() bool {
			n, _, err := s.InboxBacklog(ctx)
			return err == nil && n == 0
		}, 60*time.Second, 50*time.Millisecond)
		stop()
		<-done
		// Four appliers discovering the same withdrawals at once collide:
		// such a set is decided again taking turns on the new keys
		// (models.Store.PayoutLockNew), which helps unless the other set
		// is an optimistic one; what still collides is redone one by one
		// and retried later. It costs time, never an effect.
		t.Logf("batches: %v as sets, %v redone one by one; %v event retries",
			testutil.ToFloat64(m.ApplyBatches.WithLabelValues("set")), testutil.ToFloat64(m.ApplyBatches.WithLabelValues("isolated")),
			testutil.ToFloat64(m.WebhookApplyRetries))

		counts, err := s.InboxCounts(ctx)
		require.NoError(t, err)
		// The two Success deliveries of a payout share an identity: one is
		// a duplicate and never stored.
		require.Equal(t, map[models.InboxStatus]int64{models.InboxApplied: 3 * payouts}, counts)
		var perEvent []struct{ N int64 }
		require.NoError(t, s.DB().Raw("SELECT COUNT(*) AS n FROM payout_history WHERE inbox_event_id IS NOT NULL GROUP BY inbox_event_id HAVING COUNT(*) > 1").Scan(&perEvent).Error)
		require.Empty(t, perEvent, "an event applied more than once")
		var byStatus []struct {
			Status string
			N      int64
		}
		require.NoError(t, s.DB().Raw("SELECT status, COUNT(*) AS n FROM payouts GROUP BY status").Scan(&byStatus).Error)
		require.Equal(t, []struct {
			Status string
			N      int64
		}{{"completed", payouts}}, byStatus)
		var rows int64
		require.NoError(t, s.DB().Raw("SELECT COUNT(*) FROM payout_history").Scan(&rows).Error)
		require.EqualValues(t, 3*payouts, rows)
		require.NotZero(t, testutil.ToFloat64(m.ApplyBatches.WithLabelValues("set")))
	})
}
