package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

func TestOneAlertPerFindingUntilRenotifyInterval(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{})
		f := raise(t, store, models.KindStuckPayout, "p-1", models.SeverityError)

		// The same finding raised again by run after run: one announcement.
		for range 4 {
			raise(t, store, models.KindStuckPayout, "p-1", models.SeverityError)
			b.tick(t)
			clock.Advance(5 * time.Minute)
		}
		require.Equal(t, 1, b.hook.count())
		require.Equal(t, 1, b.slack.count())
		require.Equal(t, 1, b.pd.count())
		require.Equal(t, 1, logged(b.logs, "finding opened"))

		got := b.hook.lastJSON(t)
		require.Equal(t, TypeOpened, got["type"])
		require.Equal(t, false, got["renotification"])
		require.Equal(t, "opened:"+f.ID+":1", got["id"])
		require.Equal(t, "opened:"+f.ID+":1", b.hook.last(t).Header.Get("X-Payoutd-Alert-Id"))
		require.Equal(t, "https://payoutd.example.com/#finding-"+f.ID, got["dashboard_url"])
		finding := got["finding"].(map[string]any)
		require.Equal(t, f.ID, finding["id"])
		require.Equal(t, "stuck_payout", finding["kind"])
		require.Equal(t, "error", finding["severity"])
		require.Equal(t, "p-1", finding["payout_id"])

		pd := b.pd.lastJSON(t)
		require.Equal(t, "pd-routing-key-secret", pd["routing_key"])
		require.Equal(t, "trigger", pd["event_action"])
		require.Equal(t, f.ID, pd["dedup_key"])
		require.Equal(t, "error", pd["payload"].(map[string]any)["severity"])
		require.Contains(t, string(b.slack.last(t).Body), "stuck_payout opened (error) for p-1")

		// Just short of the interval: nothing more.
		clock.Set(start.Add(24*time.Hour - time.Second))
		raise(t, store, models.KindStuckPayout, "p-1", models.SeverityError)
		b.tick(t)
		require.Equal(t, 1, b.hook.count())

		// Past it: one reminder, and only one.
		clock.Set(start.Add(24*time.Hour + time.Second))
		b.tick(t)
		b.tick(t)
		require.Equal(t, 2, b.hook.count())
		require.Equal(t, 2, b.pd.count())
		got = b.hook.lastJSON(t)
		require.Equal(t, true, got["renotification"])
		require.EqualValues(t, 2, got["notification"])
		require.Equal(t, "opened:"+f.ID+":2", got["id"])
		require.Equal(t, 1, logged(b.logs, "finding still open"))
		n, err := store.AlertNoticeGet(t.Context(), f.ID)
		require.NoError(t, err)
		require.Equal(t, 2, n.Notifications)

		// Acknowledged: no more reminders.
		_, err = store.FindingAcknowledge(t.Context(), f.ID, "ops", "on it")
		require.NoError(t, err)
		clock.Advance(49 * time.Hour)
		b.tick(t)
		require.Equal(t, 2, b.hook.count())

		// Resolved: announced once, PagerDuty resolves the finding's incident.
		_, err = store.FindingResolve(t.Context(), models.KindStuckPayout, "p-1")
		require.NoError(t, err)
		b.tick(t)
		b.tick(t)
		require.Equal(t, 3, b.hook.count())
		require.Equal(t, TypeResolved, b.hook.lastJSON(t)["type"])
		pd = b.pd.lastJSON(t)
		require.Equal(t, "resolve", pd["event_action"])
		require.Equal(t, f.ID, pd["dedup_key"])
		require.Equal(t, 1, logged(b.logs, "finding resolved"))
		_, err = store.AlertNoticeGet(t.Context(), f.ID)
		require.ErrorIs(t, err, models.ErrNotFound, "the notice goes with the resolution")

		for _, r := range b.rows(t, "") {
			require.Equal(t, models.AlertDelivered, r.Status, "row %d (%s %s)", r.ID, r.Sink, r.Kind)
			require.Equal(t, 1, r.Attempts)
		}
		require.Len(t, b.rows(t, SinkWebhook), 3)
		require.EqualValues(t, 3, deliveries(t, b.metrics, SinkWebhook, metrics.DeliveryDelivered))
	})
}

func TestFindingResolvedBeforeItsFirstSweepIsNotAnnounced(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{})
		raise(t, store, models.KindSpeedMismatch, "p-2", models.SeverityWarning)
		_, err := store.FindingResolve(t.Context(), models.KindSpeedMismatch, "p-2")
		require.NoError(t, err)
		b.tick(t)
		require.Zero(t, b.hook.count())
		require.Empty(t, b.rows(t, ""))
	})
}

func TestNotifyResolvedOff(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{cfg: Config{Notifier: NotifierConfig{SkipResolved: true}}})
		f := raise(t, store, models.KindSpeedMismatch, "p-3", models.SeverityWarning)
		b.tick(t)
		require.Equal(t, 1, b.hook.count())
		_, err := store.FindingResolve(t.Context(), f.Kind, f.Subject)
		require.NoError(t, err)
		b.tick(t)
		require.Equal(t, 1, b.hook.count())
		require.Equal(t, 1, b.pd.count())
		_, err = store.AlertNoticeGet(t.Context(), f.ID)
		require.ErrorIs(t, err, models.ErrNotFound, "the notice is dropped all the same")
	})
}

func TestSummaryWhenMoreThanThresholdOpenAtOnce(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{cfg: Config{Notifier: NotifierConfig{SummaryThreshold: 3}}})
		var fs []*models.Finding
		for i, sev := range []models.Severity{models.SeverityError, models.SeverityError, models.SeverityWarning, models.SeverityWarning, models.SeverityInfo} {
			fs = append(fs, raise(t, store, models.KindStuckPayout, "p-"+string(rune('a'+i)), sev))
		}
		b.tick(t)
		b.tick(t)

		for name, rc := range map[string]*receiver{"slack": b.slack, "webhook": b.hook, "pagerduty": b.pd} {
			require.Equal(t, 1, rc.count(), "%s gets exactly one summary", name)
		}
		rows := b.rows(t, "")
		require.Len(t, rows, 4, "one summary per sink, log included")
		for _, r := range rows {
			require.Equal(t, models.AlertSummary, r.Kind)
			require.Nil(t, r.FindingID)
			require.Equal(t, models.AlertDelivered, r.Status)
		}
		require.Equal(t, 1, logged(b.logs, "findings summary"))
		require.Zero(t, logged(b.logs, "finding opened"))

		got := b.hook.lastJSON(t)
		require.Equal(t, TypeSummary, got["type"])
		require.Nil(t, got["finding"])
		opened := got["summary"].(map[string]any)["opened"].(map[string]any)
		require.EqualValues(t, 5, opened["count"])
		require.Equal(t, map[string]any{"error": 2.0, "warning": 2.0, "info": 1.0}, opened["by_severity"])
		require.Len(t, opened["finding_ids"], 5)
		require.Contains(t, string(b.slack.last(t).Body), "5 findings open (error 2, warning 2, info 1)")
		pd := b.pd.lastJSON(t)
		require.Equal(t, "trigger", pd["event_action"])
		require.Equal(t, got["id"], pd["dedup_key"])
		require.True(t, strings.HasPrefix(pd["dedup_key"].(string), "summary:"))
		require.Equal(t, "error", pd["payload"].(map[string]any)["severity"])

		// Few at once: one alert per finding again.
		raise(t, store, models.KindAmountMismatch, "p-x", models.SeverityError)
		raise(t, store, models.KindAmountMismatch, "p-y", models.SeverityError)
		b.tick(t)
		require.Equal(t, 3, b.hook.count())
		require.Equal(t, 2, logged(b.logs, "finding opened"))

		// Many resolve at once: a summary, but PagerDuty resolves each
		// finding's own incident.
		for _, f := range fs {
			_, err := store.FindingResolve(t.Context(), f.Kind, f.Subject)
			require.NoError(t, err)
		}
		b.tick(t)
		require.Equal(t, 4, b.hook.count())
		require.Equal(t, 4, b.slack.count(), "summary, two findings, summary")
		require.Equal(t, 2, logged(b.logs, "findings summary"))
		resolved := b.hook.lastJSON(t)["summary"].(map[string]any)["resolved"].(map[string]any)
		require.EqualValues(t, 5, resolved["count"])
		require.Equal(t, 3+5, b.pd.count())
		require.Equal(t, "resolve", b.pd.lastJSON(t)["event_action"])
	})
}

func TestRetryWithBackoffUntilDelivered(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		// 500, 500, 429 asking for 2 minutes, then ok.
		b := setup(t, store, clock, setupOpts{hook: func(n int, w http.ResponseWriter, _ *http.Request) {
			switch n {
			case 1, 2:
				http.Error(w, "upstream sad", http.StatusInternalServerError)
			case 3:
				w.Header().Set("Retry-After", "120")
				http.Error(w, "slow down", http.StatusTooManyRequests)
			default:
				w.WriteHeader(http.StatusNoContent)
			}
		}})
		raise(t, store, models.KindWalletDrift, "wallet", models.SeverityError)
		raise(t, store, models.KindWalletLowBalance, "wallet", models.SeverityWarning)
		row := func() models.AlertOutbox {
			rs := b.rows(t, SinkWebhook)
			require.Len(t, rs, 2)
			return rs[0]
		}

		b.tick(t)
		require.Equal(t, 1, b.hook.count(), "the second alert waits behind the failing first")
		r := row()
		require.Equal(t, models.AlertPending, r.Status)
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, "status 500: upstream sad", *r.LastError)
		require.True(t, r.NextAttemptAt.Equal(start.Add(10*time.Second)), "next attempt %s", r.NextAttemptAt)
		require.Equal(t, 0, b.rows(t, SinkWebhook)[1].Attempts, "postponed, not attempted")
		require.Equal(t, 2, b.slack.count(), "other sinks are not held up")

		b.tick(t) // not due yet
		require.Equal(t, 1, b.hook.count())

		clock.Advance(10 * time.Second)
		b.tick(t)
		require.Equal(t, 2, b.hook.count())
		require.Equal(t, 2, row().Attempts)
		require.True(t, row().NextAttemptAt.Equal(clock.Now().Add(20*time.Second)))

		clock.Advance(20 * time.Second)
		b.tick(t)
		require.Equal(t, 3, b.hook.count())
		require.Equal(t, 3, row().Attempts)
		require.True(t, row().NextAttemptAt.Equal(clock.Now().Add(120*time.Second)), "Retry-After wins over 40s")

		clock.Advance(119 * time.Second)
		b.tick(t)
		require.Equal(t, 3, b.hook.count())
		clock.Advance(time.Second)
		b.tick(t)
		require.Equal(t, 5, b.hook.count(), "the first, then the one behind it")
		for _, r := range b.rows(t, SinkWebhook) {
			require.Equal(t, models.AlertDelivered, r.Status)
			require.Nil(t, r.LastError)
		}
		require.Equal(t, 4, row().Attempts)
		require.Equal(t, 1, b.rows(t, SinkWebhook)[1].Attempts)
		require.EqualValues(t, 3, deliveries(t, b.metrics, SinkWebhook, metrics.DeliveryFailed))
		require.EqualValues(t, 2, deliveries(t, b.metrics, SinkWebhook, metrics.DeliveryDelivered))
		require.Equal(t, 3, logged(b.logs, "alert delivery failed"))
	})
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		b := setup(t, store, clock, setupOpts{
			cfg:  Config{Dispatcher: DispatcherConfig{MaxAttempts: 3}},
			hook: failFirst(100, http.StatusBadGateway),
		})
		raise(t, store, models.KindWalletDrift, "wallet", models.SeverityError)
		for range 6 {
			b.tick(t)
			clock.Advance(time.Hour)
		}
		require.Equal(t, 3, b.hook.count())
		r := b.rows(t, SinkWebhook)[0]
		require.Equal(t, models.AlertFailed, r.Status)
		require.Equal(t, 3, r.Attempts)
		require.EqualValues(t, 1, deliveries(t, b.metrics, SinkWebhook, metrics.DeliveryGaveUp))
		require.Equal(t, 1, logged(b.logs, "alert delivery given up"))
		n, _, err := store.AlertOutboxBacklog(t.Context())
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func TestAlertSurvivesRestart(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		hook := newReceiver(t, nil)
		cfg := Config{Dispatcher: DispatcherConfig{WebhookURL: hook.URL() + "/a"}}

		// The first process enqueues and stops before delivering.
		first, _, _ := newService(t, store, cfg)
		f := raise(t, store, models.KindMissingLocally, "tx-1", models.SeverityError)
		res, err := first.Notifier.Sweep(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, res.Opened)
		require.Zero(t, hook.count())

		// The next one delivers it, once.
		second, _, _ := newService(t, store, cfg)
		for range 3 {
			second.Tick(t.Context())
		}
		require.Equal(t, 1, hook.count())
		require.Equal(t, "opened:"+f.ID+":1", hook.last(t).Header.Get("X-Payoutd-Alert-Id"))
		rs, err := store.AlertList(t.Context(), SinkWebhook)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, models.AlertDelivered, rs[0].Status)
	})
}

func TestStopMidDeliveryLeavesAlertForTheNextProcess(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		arrived := make(chan struct{}, 1)
		hook := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 { // hang until the caller gives up
				arrived <- struct{}{}
				<-r.Context().Done()
				return
			}
			w.WriteHeader(http.StatusAccepted)
		})
		cfg := Config{Dispatcher: DispatcherConfig{WebhookURL: hook.URL()}}
		first, _, _ := newService(t, store, cfg)
		raise(t, store, models.KindMissingLocally, "tx-2", models.SeverityError)
		_, err := first.Notifier.Sweep(t.Context())
		require.NoError(t, err)

		ctx, stop := context.WithCancel(t.Context())
		go func() { <-arrived; stop() }()
		_, err = first.Dispatcher.DispatchOnce(ctx)
		require.ErrorIs(t, err, context.Canceled)
		rs, err := store.AlertList(t.Context(), SinkWebhook)
		require.NoError(t, err)
		require.Equal(t, models.AlertPending, rs[0].Status)
		require.Zero(t, rs[0].Attempts, "stopping is not the receiver's failure")
		require.False(t, rs[0].NextAttemptAt.After(clock.Now()), "released, due now")

		second, _, _ := newService(t, store, cfg)
		_, err = second.Dispatcher.DispatchOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, 2, hook.count())
		rs, err = store.AlertList(t.Context(), SinkWebhook)
		require.NoError(t, err)
		require.Equal(t, models.AlertDelivered, rs[0].Status)
		require.Equal(t, 1, rs[0].Attempts)
	})
}

func TestOnlyConfiguredURLsAreCalled(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		stranger := newReceiver(t, nil)
		// The configured webhook redirects to the stranger.
		hook := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, stranger.URL()+"/elsewhere", http.StatusTemporaryRedirect)
		})
		svc, logs, m := newService(t, store, Config{Dispatcher: DispatcherConfig{WebhookURL: hook.URL() + "/in"}})
		require.Equal(t, []string{SinkLog, SinkWebhook}, svc.Dispatcher.Sinks())

		// Rows for sinks this process was not given: slack, and one whose
		// sink is the stranger's URL.
		payload, err := json.Marshal(Alert{Version: 1, ID: "forged", Type: TypeSummary, Summary: &Summary{}, DashboardURL: stranger.URL()})
		require.NoError(t, err)
		_, err = store.AlertEnqueue(t.Context(), []models.AlertOutbox{
			{DedupKey: "forged:slack", Sink: SinkSlack, Kind: models.AlertSummary, Payload: string(payload)},
			{DedupKey: "forged:url", Sink: stranger.URL(), Kind: models.AlertSummary, Payload: string(payload)},
			{DedupKey: "forged:webhook", Sink: SinkWebhook, Kind: models.AlertSummary, Payload: string(payload)},
		})
		require.NoError(t, err)
		_, err = svc.Dispatcher.DispatchOnce(t.Context())
		require.NoError(t, err)

		rs, err := store.AlertList(t.Context(), "")
		require.NoError(t, err)
		require.Len(t, rs, 3)
		for _, r := range rs[:2] {
			require.Equal(t, models.AlertFailed, r.Status, r.Sink)
			require.Equal(t, "sink not configured", *r.LastError)
		}
		require.Equal(t, models.AlertPending, rs[2].Status)
		require.Equal(t, 1, rs[2].Attempts)
		require.Equal(t, "status 307 (redirects are not followed)", strings.SplitN(*rs[2].LastError, ":", 2)[0])
		require.Equal(t, 1, hook.count())
		require.Zero(t, stranger.count(), "nothing reaches a URL that is not configured")
		require.EqualValues(t, 1, deliveries(t, m, SinkSlack, metrics.DeliveryRefused))
		require.EqualValues(t, 1, deliveries(t, m, "unknown", metrics.DeliveryRefused))
		for _, e := range logs.AllEntries() {
			line, err := e.String()
			require.NoError(t, err)
			require.NotContains(t, line, stranger.URL(), "a forged sink name is not logged")
		}
		require.Equal(t, 2, logged(logs, "alert refused: its sink is not configured"))
	})
}

func TestGuardedClientRefusesOtherURLs(t *testing.T) {
	t.Parallel()
	ok := newReceiver(t, nil)
	stranger := newReceiver(t, nil)
	c := guardedClient(map[string]bool{ok.URL() + "/hook": true}, time.Second)
	for _, u := range []string{stranger.URL() + "/hook", ok.URL() + "/other", ok.URL() + "/hook?x=1"} {
		_, err := c.Post(u, "application/json", strings.NewReader("{}"))
		require.ErrorIs(t, err, ErrDestinationRefused, u)
	}
	resp, err := c.Post(ok.URL()+"/hook", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, 1, ok.count())
	require.Zero(t, stranger.count())
}

func TestBadSinkURLIsRefusedWithoutQuotingIt(t *testing.T) {
	t.Parallel()
	_, err := NewDispatcher(nil, nil, nil, DispatcherConfig{
		SlackWebhookURL: "ftp://hooks.example.com/services/very-secret-token",
		WebhookURL:      "not a url at all secret-two",
	})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "very-secret-token")
	require.NotContains(t, err.Error(), "secret-two")
	require.ErrorContains(t, err, "slack webhook URL: not an http(s) URL")
}

func TestConcurrentSweepsAnnounceOnce(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		hook := newReceiver(t, nil)
		cfg := Config{Dispatcher: DispatcherConfig{WebhookURL: hook.URL()}}
		var first *models.Finding
		for i := range 20 {
			f := raise(t, store, models.KindMissingAtCoinflow, fmt.Sprintf("p-%d", i), models.SeverityError)
			if first == nil {
				first = f
			}
		}
		svcs := make([]*Service, 4)
		for i := range svcs {
			svcs[i], _, _ = newService(t, store, cfg)
		}

		// Several processes sweep the same database at once. On PostgreSQL
		// an uncommitted claim of the first finding holds every sweep at
		// its claim, after each has listed all 20 findings, so that they
		// really race; SQLite has one writer and runs them one by one.
		var blocker *gorm.DB
		if store.Dialect() == models.DialectPostgres {
			sqlDB, err := store.DB().DB()
			require.NoError(t, err)
			sqlDB.SetMaxOpenConns(10)
			blocker = store.DB().Begin()
			require.NoError(t, blocker.Exec("INSERT INTO alert_notices VALUES (?, ?, ?, 1)", first.ID, clock.Now(), clock.Now()).Error)
		}
		var wg sync.WaitGroup
		for _, svc := range svcs {
			wg.Go(func() {
				_, err := svc.Notifier.Sweep(t.Context())
				assert.NoError(t, err)
			})
		}
		if blocker != nil {
			require.Eventually(t, func() bool {
				var n int
				err := store.DB().Raw(`SELECT COUNT(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n).Error
				return err == nil && n == len(svcs)
			}, 10*time.Second, 10*time.Millisecond, "every sweep waits at its claim")
			require.NoError(t, blocker.Rollback().Error)
		}
		wg.Wait()

		rows, err := store.AlertList(t.Context(), SinkWebhook)
		require.NoError(t, err)
		require.Len(t, rows, 1, "one summary for the 20, written by one of the sweeps")
		require.Equal(t, models.AlertSummary, rows[0].Kind)
		_, err = svcs[0].Dispatcher.DispatchOnce(t.Context())
		require.NoError(t, err)
		require.Equal(t, 1, hook.count())
	})
}
