package main

import (
	"context"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/alert"
	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/kyc"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/rail"
	"github.com/payoutd/payoutd/reconcile"
)

// This file builds, from the configuration, what several commands share:
// the logger, the store, the Coinflow client, the reconciler and alerting.
// Each command wires the rest of itself in its own cmd_*.go.

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
			SlackWebhookURL: a.SlackWebhookURL.Value(), WebhookURL: a.WebhookURL.Value(), WebhookSecret: a.WebhookSecret.Value(),
			PagerDutyRoutingKey: a.PagerDutyRoutingKey.Value(), PagerDutyURL: a.PagerDutyURL,
		},
	})
}

// warnUnsignedAlerts logs, once, that alerts.webhook_url is set without
// alerts.webhook_secret: its receiver cannot tell payoutd's alerts from
// anyone else's POSTs.
func warnUnsignedAlerts(cfg Config, log *logrus.Entry) {
	if cfg.Alerts.WebhookURL != "" && cfg.Alerts.WebhookSecret == "" {
		log.Warn("alert webhooks are sent unsigned: set alerts.webhook_secret so that the receiver can verify them")
	}
}

func newLogger(cfg Config, out io.Writer) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(out)
	level, _ := logrus.ParseLevel(cfg.Log.Level)
	l.SetLevel(level)
	format := cfg.Log.Format
	if format == "auto" {
		format = "json"
		if f, ok := out.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "json" {
		l.SetFormatter(&logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano})
	} else {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: time.RFC3339})
	}
	return l
}

func openStore(ctx context.Context, cfg Config) (*models.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return models.Open(ctx, models.Options{URL: cfg.Database.URL.Value(), MaxOpenConns: cfg.Database.MaxOpenConns})
}

// openMigrated opens the store and brings its schema up to this binary's,
// returning the migrations it applied.
func openMigrated(ctx context.Context, cfg Config) (*models.Store, []int, error) {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	applied, err := store.Migrate(ctx)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, applied, nil
}

// coinflowClient builds the Coinflow client; obs (may be nil) is told of
// its traffic.
func coinflowClient(cfg Config, obs coinflow.Observer) (*coinflow.Client, error) {
	return coinflow.New(coinflow.Config{BaseURL: cfg.Coinflow.BaseURL, APIKey: cfg.Coinflow.APIKey.Value(), Observer: obs})
}

// newCoinflowMetrics registers the Coinflow client's metrics, every
// operation and class declared.
func newCoinflowMetrics(m *metrics.Metrics) *metrics.Coinflow {
	return m.NewCoinflow(coinflow.Operations, coinflow.Classes)
}

// newOnboard builds the onboarding service on cf.
func newOnboard(cfg Config, store *models.Store, cf *coinflow.Client, logger *logrus.Logger) (*onboard.Service, error) {
	return onboard.New(store, cf, logger.WithField("component", "onboard"), onboard.Config{FirstCheck: cfg.KYC.FirstCheck.D()})
}

// newFollower builds the follower of pending withdrawers on a Coinflow
// client of its own that never retries: the follower paces its calls within
// Coinflow's rate limits and backs off itself. obs (may be nil) is told of
// its traffic.
func newFollower(cfg Config, store *models.Store, logger *logrus.Logger, m *metrics.Metrics, obs coinflow.Observer) (*kyc.Follower, error) {
	cf, err := coinflow.New(coinflow.Config{BaseURL: cfg.Coinflow.BaseURL, APIKey: cfg.Coinflow.APIKey.Value(), MaxAttempts: 1, Observer: obs})
	if err != nil {
		return nil, err
	}
	log := logger.WithField("component", "kyc")
	ob, err := onboard.New(store, cf, log, onboard.Config{FirstCheck: cfg.KYC.FirstCheck.D()})
	if err != nil {
		return nil, err
	}
	return kyc.New(store, cf, ob, log, kyc.Config{Base: cfg.KYC.FirstCheck.D(), Max: cfg.KYC.MaxInterval.D(), Metrics: m.NewKYC()})
}

// newReconciler builds the reconciler; afterRun (may be nil) is called
// with every recorded run.
func newReconciler(cfg Config, store *models.Store, cf *coinflow.Client, logger *logrus.Logger, m *metrics.Metrics, afterRun func(*models.ReconcileRun)) (*reconcile.Reconciler, error) {
	r := cfg.Reconcile
	return reconcile.New(store, cf, logger.WithField("component", "reconcile"), m.NewReconcile(), reconcile.Config{
		Lookback: r.Lookback.D(), MissingGrace: r.MissingGrace.D(), PageSize: r.PageSize, Timeout: r.Timeout.D(),
		Windows:    rail.Windows{Instant: r.InstantWindow.D(), StandardBusinessDays: r.StandardBusinessDays, OtherBusinessDays: r.OtherBusinessDays},
		StuckGrace: r.StuckGrace.D(), KYCStallAfter: cfg.KYC.StallAfter.D(), LowBalanceCents: cfg.Wallet.LowBalanceCents, DriftToleranceCents: cfg.Wallet.DriftToleranceCents,
		AfterRunFunc: afterRun,
	})
}

// holderName names this process in job leases.
func holderName() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}
