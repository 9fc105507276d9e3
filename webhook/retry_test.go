package webhook_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// poison makes every insert of a payout for user u-poison fail, in the
// database itself, the way a broken constraint or trigger would.
func poison(t *testing.T, s *models.Store) {
	t.Helper()
	var stmts []string
	if s.Dialect() == models.DialectPostgres {
		stmts = []string{
			`CREATE FUNCTION payoutd_test_poison() RETURNS trigger AS $$
			 BEGIN IF NEW.user_id = 'u-poison' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER payoutd_test_poison BEFORE INSERT ON payouts FOR EACH ROW EXECUTE FUNCTION payoutd_test_poison()`,
		}
	} else {
		stmts = []string{`CREATE TRIGGER payoutd_test_poison BEFORE INSERT ON payouts
			WHEN NEW.user_id = 'u-poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END`}
	}
	for _, q := range stmts {
		require.NoError(t, s.DB().Exec(q).Error)
	}
}

func withdrawBody(signature, user string) []byte {
	return fmt.Appendf(nil, `{"eventType":"Withdraw Pending","category":"Withdraw","created":"2025-06-02T14:03:12.006Z",`+
		`"data":{"wallet":"w","blockchain":"solana","signature":%q,"total":{"cents":2500,"currency":"USD"},"currency":"USD",`+
		`"merchantId":"acme-payouts","userId":%q}}`, signature, user)
}

// TestFailingEventIsRetriedThenParkedWithoutBlockingOthers: an event that
// cannot be applied is rescheduled with backoff while the events behind it
// apply, and after MaxAttempts it is parked and raised as a finding.
func TestFailingEventIsRetriedThenParkedWithoutBlockingOthers(t *testing.T) {
	dbtest.EachAt(t, time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC), func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		poison(t, store)
		srv := testserver.Start(t, store, testserver.Options{Clock: clock, Pipeline: webhook.PipelineConfig{
			Applier: inbox.ApplierConfig{MaxAttempts: 3, BaseBackoff: time.Minute, MaxBackoff: time.Hour},
		}})
		for _, b := range [][]byte{withdrawBody("sig-poison", "u-poison"), withdrawBody("sig-good", "u-good")} {
			status, _ := srv.PostSigned(t, b)
			require.Equal(t, http.StatusOK, status)
		}

		srv.Drain(t)
		counts, err := store.InboxCounts(t.Context())
		require.NoError(t, err)
		require.Equal(t, map[models.InboxStatus]int64{models.InboxApplied: 1, models.InboxPending: 1}, counts,
			"the good event applied behind the failing one")
		var ev models.InboxEvent
		require.NoError(t, store.DB().Where("status = ?", models.InboxPending).First(&ev).Error)
		require.Equal(t, 1, ev.Attempts)
		require.True(t, ev.NextAttemptAt.After(clock.Now()), "rescheduled into the future")
		require.Contains(t, *ev.LastError, "poisoned")

		require.Zero(t, srv.Drain(t), "not due yet: nothing claimed")
		for attempt := 2; attempt <= 3; attempt++ {
			clock.Advance(2 * time.Hour) // past any backoff
			srv.Drain(t)
		}
		counts, err = store.InboxCounts(t.Context())
		require.NoError(t, err)
		require.Equal(t, map[models.InboxStatus]int64{models.InboxApplied: 1, models.InboxParked: 1}, counts)
		fs, _, err := store.FindingList(t.Context(), models.FindingFilter{Kind: models.KindWebhookUnprocessable})
		require.NoError(t, err)
		require.Len(t, fs, 1)
		require.Equal(t, fmt.Sprintf("inbox:%d", ev.ID), fs[0].Subject)
		require.Contains(t, fs[0].Details["reason"], "parked")
		var payouts int64
		require.NoError(t, store.DB().Model(&models.Payout{}).Count(&payouts).Error)
		require.EqualValues(t, 1, payouts, "the poisoned event changed nothing")
	})
}
