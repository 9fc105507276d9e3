package metrics_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// gather scrapes reg into name -> rendered labels -> value.
func gather(t *testing.T, reg prometheus.Gatherer) map[string]map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]map[string]float64{}
	for _, mf := range mfs {
		series := map[string]float64{}
		for _, m := range mf.GetMetric() {
			series[labels(m)] = value(mf.GetType(), m)
		}
		out[mf.GetName()] = series
	}
	return out
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func value(t dto.MetricType, m *dto.Metric) float64 {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	return 0
}

func TestFindingsMetricsReadTheStoreAtScrapeTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		m := metrics.New()
		alerts := m.RegisterFindings(store, clock.Now)

		got := gather(t, m.Registry)
		require.Equal(t, 1.0, got["payoutd_store_metrics_up"][""])
		require.Equal(t, 0.0, got["payoutd_stuck_payouts"][""])
		require.Len(t, got["payoutd_findings_open"], 3*len(models.FindingKinds()), "every kind and severity, at 0")
		require.Equal(t, 0.0, got["payoutd_findings_open"]["kind=stuck_payout,severity=error"])
		require.NotContains(t, got, "payoutd_wallet_balance_cents", "no snapshot yet: no value rather than a false 0")
		require.Equal(t, 0.0, got["payoutd_alert_outbox_backlog"][""])

		raise := func(kind models.FindingKind, subject string, sev models.Severity) *models.Finding {
			f, _, err := store.FindingRaise(ctx, models.Finding{Kind: kind, Subject: subject, Severity: sev})
			require.NoError(t, err)
			return f
		}
		raise(models.KindStuckPayout, "p-1", models.SeverityError)
		ack := raise(models.KindStuckPayout, "p-2", models.SeverityError)
		_, err := store.FindingAcknowledge(ctx, ack.ID, "ops", "")
		require.NoError(t, err)
		raise(models.KindStuckPayout, "p-3", models.SeverityError)
		_, err = store.FindingResolve(ctx, models.KindStuckPayout, "p-3")
		require.NoError(t, err)
		raise(models.KindSpeedMismatch, "p-4", models.SeverityInfo)
		_, err = store.WalletSnapshotAdd(ctx, "run-1", clock.Now(), 1_234_567)
		require.NoError(t, err)
		_, err = store.AlertEnqueue(ctx, []models.AlertOutbox{
			{DedupKey: "a:log", Sink: "log", Kind: models.AlertOpened, Payload: "{}"},
			{DedupKey: "a:slack", Sink: "slack", Kind: models.AlertOpened, Payload: "{}"},
		})
		require.NoError(t, err)
		clock.Advance(90 * time.Second)
		alerts.Deliveries.WithLabelValues("slack", metrics.DeliveryFailed).Inc()

		got = gather(t, m.Registry)
		require.Equal(t, 1.0, got["payoutd_store_metrics_up"][""])
		require.Equal(t, 2.0, got["payoutd_findings_open"]["kind=stuck_payout,severity=error"], "acknowledged counts, resolved does not")
		require.Equal(t, 1.0, got["payoutd_findings_open"]["kind=speed_mismatch,severity=info"])
		require.Equal(t, 0.0, got["payoutd_findings_open"]["kind=speed_mismatch,severity=warning"])
		require.Equal(t, 2.0, got["payoutd_stuck_payouts"][""])
		require.Equal(t, 1_234_567.0, got["payoutd_wallet_balance_cents"][""])
		require.Equal(t, float64(start.Unix()), got["payoutd_wallet_balance_timestamp_seconds"][""])
		require.Equal(t, 2.0, got["payoutd_alert_outbox_backlog"][""])
		require.Equal(t, 90.0, got["payoutd_alert_outbox_oldest_pending_age_seconds"][""])
		require.Equal(t, 1.0, got["payoutd_alert_deliveries_total"]["outcome=failed,sink=slack"])
		require.Equal(t, 0.0, got["payoutd_findings_snoozed"]["kind=stuck_payout,severity=error"])

		// A snoozed finding is counted apart while its snooze lasts, so
		// that alert rules wait with it; then it is open again.
		snoozed := raise(models.KindStuckPayout, "p-5", models.SeverityError)
		_, err = store.FindingSnooze(ctx, snoozed.ID, clock.Now().Add(48*time.Hour), "ops", "Coinflow: settles Monday")
		require.NoError(t, err)
		got = gather(t, m.Registry)
		require.Equal(t, 2.0, got["payoutd_findings_open"]["kind=stuck_payout,severity=error"], "the snoozed one is not open")
		require.Equal(t, 1.0, got["payoutd_findings_snoozed"]["kind=stuck_payout,severity=error"])
		require.Equal(t, 2.0, got["payoutd_stuck_payouts"][""])
		clock.Advance(49 * time.Hour)
		got = gather(t, m.Registry)
		require.Equal(t, 3.0, got["payoutd_findings_open"]["kind=stuck_payout,severity=error"], "the snooze is over")
		require.Equal(t, 0.0, got["payoutd_findings_snoozed"]["kind=stuck_payout,severity=error"])
		require.Equal(t, 3.0, got["payoutd_stuck_payouts"][""])

		// A database that does not answer fails no scrape: the gauges go,
		// and up says why.
		require.NoError(t, store.Close())
		got = gather(t, m.Registry)
		require.Equal(t, 0.0, got["payoutd_store_metrics_up"][""])
		require.NotContains(t, got, "payoutd_findings_open")
		require.NotContains(t, got, "payoutd_alert_outbox_backlog")
	})
}
