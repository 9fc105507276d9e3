package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/payoutd/payoutd/models"
)

// FindingsSource is what RegisterFindings reads at scrape time;
// *models.Store is one.
type FindingsSource interface {
	FindingTallyUnresolved(ctx context.Context) ([]models.FindingTally, error)
	WalletSnapshotLatestBefore(ctx context.Context, t time.Time) (*models.WalletSnapshot, error)
	AlertOutboxBacklog(ctx context.Context) (int64, time.Time, error)
}

// Alerts holds the collectors the alert dispatcher updates.
type Alerts struct {
	// Deliveries counts delivery attempts by sink and outcome: delivered,
	// failed (will be retried), gave_up (out of attempts), refused (the
	// sink is not configured).
	Deliveries *prometheus.CounterVec
}

// Delivery outcomes.
const (
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliveryGaveUp    = "gave_up"
	DeliveryRefused   = "refused"
)

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 2 * time.Second

// RegisterFindings adds the gauges read from the database at scrape time
// (open findings by kind and severity, open stuck payouts, the latest wallet
// balance, the alert outbox backlog) and the alert delivery counter, which
// it returns for the dispatcher. now is the clock ages are measured with.
func (m *Metrics) RegisterFindings(src FindingsSource, now func() time.Time) *Alerts {
	a := &Alerts{Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "payoutd_alert_deliveries_total",
		Help: "Alert delivery attempts by sink and outcome (delivered, failed, gave_up, refused).",
	}, []string{"sink", "outcome"})}
	m.Registry.MustRegister(a.Deliveries, &storeCollector{src: src, now: now})
	return a
}

var (
	descUp = prometheus.NewDesc("payoutd_store_metrics_up",
		"1 when the last scrape could read findings, wallet and alert outbox from the database, else 0.", nil, nil)
	descFindingsOpen = prometheus.NewDesc("payoutd_findings_open",
		"Unresolved findings (open or acknowledged) by kind and severity, not counting those snoozed now.", []string{"kind", "severity"}, nil)
	descFindingsSnoozed = prometheus.NewDesc("payoutd_findings_snoozed",
		"Unresolved findings snoozed until a time still to come, by kind and severity.", []string{"kind", "severity"}, nil)
	descStuck = prometheus.NewDesc("payoutd_stuck_payouts",
		"Payouts with an unresolved stuck_payout finding that is not snoozed now.", nil, nil)
	descWallet = prometheus.NewDesc("payoutd_wallet_balance_cents",
		"Coinflow wallet balance in USD cents at the latest reconciliation snapshot.", nil, nil)
	descWalletAt = prometheus.NewDesc("payoutd_wallet_balance_timestamp_seconds",
		"Unix time of the latest wallet balance snapshot.", nil, nil)
	descOutbox = prometheus.NewDesc("payoutd_alert_outbox_backlog",
		"Alerts waiting to be delivered.", nil, nil)
	descOutboxAge = prometheus.NewDesc("payoutd_alert_outbox_oldest_pending_age_seconds",
		"Age of the oldest alert waiting to be delivered (0 when none).", nil, nil)
)

// knownKinds and knownSeverities are always exported, at 0 when none are
// open, so that alert rules see 0 rather than nothing.
var (
	knownKinds      = models.FindingKinds()
	knownSeverities = []models.Severity{models.SeverityInfo, models.SeverityWarning, models.SeverityError}
)

// storeCollector reads its values from the database on every scrape. A
// value it cannot read is left out and payoutd_store_metrics_up is 0, so a
// slow or absent database never fails the whole scrape.
type storeCollector struct {
	src FindingsSource
	now func() time.Time
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descFindingsOpen, descFindingsSnoozed, descStuck, descWallet, descWalletAt, descOutbox, descOutboxAge} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	up := 1.0
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	// A snoozed finding is counted apart, so that an alert rule on
	// payoutd_findings_open waits with the snooze as the reminders do.
	if rows, err := c.src.FindingTallyUnresolved(ctx); err != nil {
		up = 0
	} else {
		type key struct {
			kind models.FindingKind
			sev  models.Severity
		}
		awake, snoozed := map[key]int64{}, map[key]int64{}
		for _, k := range knownKinds {
			for _, s := range knownSeverities {
				awake[key{k, s}], snoozed[key{k, s}] = 0, 0
			}
		}
		var stuck int64
		for _, r := range rows {
			awake[key{r.Kind, r.Severity}] += r.Awake
			snoozed[key{r.Kind, r.Severity}] += r.Snoozed
			if r.Kind == models.KindStuckPayout {
				stuck += r.Awake
			}
		}
		for k, v := range awake {
			gauge(descFindingsOpen, float64(v), string(k.kind), string(k.sev))
			gauge(descFindingsSnoozed, float64(snoozed[k]), string(k.kind), string(k.sev))
		}
		gauge(descStuck, float64(stuck))
	}

	// Snapshots are stamped with the store's clock; a day ahead covers any
	// skew between it and now.
	switch w, err := c.src.WalletSnapshotLatestBefore(ctx, c.now().Add(24*time.Hour)); {
	case err == nil:
		gauge(descWallet, float64(w.BalanceCents))
		gauge(descWalletAt, float64(w.TakenAt.Unix()))
	case !errors.Is(err, models.ErrNotFound):
		up = 0
	}

	if n, oldest, err := c.src.AlertOutboxBacklog(ctx); err != nil {
		up = 0
	} else {
		gauge(descOutbox, float64(n))
		age := 0.0
		if !oldest.IsZero() {
			age = max(c.now().Sub(oldest).Seconds(), 0)
		}
		gauge(descOutboxAge, age)
	}
	gauge(descUp, up)
}
