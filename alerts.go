package main

import (
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/alert"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// newAlerts builds alerting from the alerts section of the configuration
// and registers the findings, wallet and alert metrics it reads from store.
func newAlerts(cfg Config, store *models.Store, logger *logrus.Logger, m *metrics.Metrics) (*alert.Service, error) {
	a := cfg.Alerts
	return alert.New(store, logger.WithField("component", "alert"), m.RegisterFindings(store, time.Now), alert.Config{
		Interval: a.DispatchInterval.D(),
		Notifier: alert.NotifierConfig{
			RenotifyInterval: a.RenotifyInterval.D(), SummaryThreshold: a.SummaryThreshold,
			SkipResolved: !a.NotifyResolved, DashboardURL: a.DashboardURL,
		},
		Dispatcher: alert.DispatcherConfig{
			SlackWebhookURL: a.SlackWebhookURL.Value(), WebhookURL: a.WebhookURL.Value(),
			PagerDutyRoutingKey: a.PagerDutyRoutingKey.Value(), PagerDutyURL: a.PagerDutyURL,
		},
	})
}
