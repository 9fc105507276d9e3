package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigAlertsDefaultsAndEnvironment(t *testing.T) {
	cfg, err := loadConfig(filepath.Join(t.TempDir(), "none.yaml"), false, getenvFrom(nil))
	require.NoError(t, err)
	require.Equal(t, "https://events.pagerduty.com/v2/enqueue", cfg.Alerts.PagerDutyURL)
	require.Equal(t, 24*time.Hour, cfg.Alerts.RenotifyInterval.D())
	require.Equal(t, 10, cfg.Alerts.SummaryThreshold)
	require.True(t, cfg.Alerts.NotifyResolved)
	require.Equal(t, 10*time.Second, cfg.Alerts.DispatchInterval.D())

	cfg, err = loadConfig(filepath.Join(t.TempDir(), "none.yaml"), false, getenvFrom(map[string]string{
		"PAYOUTD_ALERTS_SLACK_WEBHOOK_URL":     "https://hooks.slack.com/services/T0/B0/slack-secret",
		"PAYOUTD_ALERTS_PAGERDUTY_ROUTING_KEY": "pd-secret",
		"PAYOUTD_ALERTS_NOTIFY_RESOLVED":       "false",
		"PAYOUTD_ALERTS_RENOTIFY_INTERVAL":     "6h",
		"PAYOUTD_ALERTS_SUMMARY_THRESHOLD":     "3",
	}))
	require.NoError(t, err)
	require.Equal(t, "https://hooks.slack.com/services/T0/B0/slack-secret", cfg.Alerts.SlackWebhookURL.Value())
	require.False(t, cfg.Alerts.NotifyResolved)
	require.Equal(t, 6*time.Hour, cfg.Alerts.RenotifyInterval.D())
	require.Equal(t, 3, cfg.Alerts.SummaryThreshold)
	printed := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)
	require.NotContains(t, printed, "slack-secret")
	require.NotContains(t, printed, "pd-secret")
}

func TestConfigAlertsValidationNeverQuotesSecrets(t *testing.T) {
	_, err := loadConfig(filepath.Join(t.TempDir(), "none.yaml"), false, getenvFrom(map[string]string{
		"PAYOUTD_ALERTS_SLACK_WEBHOOK_URL": "hooks.slack.com/services/no-scheme-secret",
		"PAYOUTD_ALERTS_WEBHOOK_URL":       "ftp://example.com/ftp-secret",
		"PAYOUTD_ALERTS_SUMMARY_THRESHOLD": "0",
		"PAYOUTD_ALERTS_DISPATCH_INTERVAL": "0s",
		"PAYOUTD_ALERTS_DASHBOARD_URL":     "dashboard",
	}))
	require.Error(t, err)
	for _, want := range []string{"alerts.slack_webhook_url", "alerts.webhook_url", "alerts.summary_threshold", "dispatch_interval", "alerts.dashboard_url"} {
		require.ErrorContains(t, err, want)
	}
	require.NotContains(t, err.Error(), "no-scheme-secret")
	require.NotContains(t, err.Error(), "ftp-secret")
}
