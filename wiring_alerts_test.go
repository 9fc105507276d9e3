package main

import (
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"
)

// TestUnsignedAlertWebhookWarnsOnce: serve warns when alert webhooks would
// go out unsigned, and says nothing when they are signed or not sent.
func TestUnsignedAlertWebhookWarnsOnce(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	for name, tc := range map[string]struct {
		url, secret Secret
		warnings    int
	}{
		"unsigned":   {"https://hooks.example.com/alerts?token=hook-secret", "", 1},
		"signed":     {"https://hooks.example.com/alerts?token=hook-secret", secret, 0},
		"no webhook": {"", "", 0},
	} {
		t.Run(name, func(t *testing.T) {
			logger, hook := logtest.NewNullLogger()
			var cfg Config
			cfg.Alerts.WebhookURL, cfg.Alerts.WebhookSecret = tc.url, tc.secret
			warnUnsignedAlerts(cfg, logger.WithField("component", "main"))
			require.Len(t, hook.AllEntries(), tc.warnings)
			for _, e := range hook.AllEntries() {
				require.Equal(t, logrus.WarnLevel, e.Level)
				require.Contains(t, e.Message, "alerts.webhook_secret")
				line, err := e.String()
				require.NoError(t, err)
				require.NotContains(t, line, "hook-secret")
			}
		})
	}
}
