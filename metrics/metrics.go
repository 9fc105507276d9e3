// Package metrics holds payoutd's Prometheus collectors, on a registry of
// their own (never the global one), served at GET /metrics.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the collectors the other packages update.
type Metrics struct {
	Registry *prometheus.Registry

	// WebhooksReceived counts deliveries at the endpoint by event type and
	// outcome: stored, duplicate, unauthenticated, too_large, unavailable,
	// not_configured.
	WebhooksReceived *prometheus.CounterVec
	// WebhookAuthFailures counts unauthenticated deliveries by cause:
	// bad_mac, stale, malformed, missing, bad_authorization.
	WebhookAuthFailures *prometheus.CounterVec
	// WebhooksPreviousKey counts deliveries accepted under
	// coinflow.webhook_previous_key, by scheme (signature, authorization).
	WebhooksPreviousKey *prometheus.CounterVec
	// WebhookEventsProcessed counts stored events the applier finished, by
	// event type and outcome: applied, ignored, unprocessable, parked.
	WebhookEventsProcessed *prometheus.CounterVec
	// WebhookApplyRetries counts apply attempts that failed and were
	// rescheduled.
	WebhookApplyRetries prometheus.Counter
	// ApplyBatches counts the applier's batches by how they were applied:
	// "set" (decided in memory, written in a few statements) or "isolated"
	// (a set failed and was redone one event at a time).
	ApplyBatches *prometheus.CounterVec
	// ApplyBatchSize is how many events one applier batch claimed.
	ApplyBatchSize prometheus.Histogram
	// ApplyLag is the time from a webhook's receipt to its application.
	ApplyLag prometheus.Histogram
	// CommitBatchSize is how many webhooks share one commit.
	CommitBatchSize prometheus.Histogram
	// HTTPDuration is request latency by method, route and status code.
	HTTPDuration *prometheus.HistogramVec
}

// New makes the collectors and registers them with Go and process metrics.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		WebhooksReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_webhooks_received_total",
			Help: "Webhook deliveries received, by event type and outcome.",
		}, []string{"event_type", "outcome"}),
		WebhookAuthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_webhook_auth_failures_total",
			Help: "Unauthenticated webhook deliveries, by cause.",
		}, []string{"cause"}),
		WebhooksPreviousKey: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_webhooks_previous_key_total",
			Help: "Webhook deliveries accepted under the previous webhook key, by scheme.",
		}, []string{"scheme"}),
		WebhookEventsProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_webhook_events_processed_total",
			Help: "Stored webhook events the applier finished, by event type and outcome.",
		}, []string{"event_type", "outcome"}),
		WebhookApplyRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "payoutd_webhook_apply_retries_total",
			Help: "Webhook apply attempts that failed and were rescheduled.",
		}),
		ApplyBatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_webhook_apply_batches_total",
			Help: "Applier batches by mode: set, or isolated (a failed set redone one event at a time).",
		}, []string{"mode"}),
		ApplyBatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "payoutd_webhook_apply_batch_size",
			Help:    "Events claimed by one applier batch.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
		}),
		ApplyLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "payoutd_webhook_apply_lag_seconds",
			Help:    "Time from a webhook's receipt to its application.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		CommitBatchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "payoutd_webhook_commit_batch_size",
			Help:    "Webhooks stored per database commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payoutd_http_request_duration_seconds",
			Help:    "HTTP request latency by method, route and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method", "route", "code"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.WebhooksReceived, m.WebhookAuthFailures, m.WebhooksPreviousKey, m.WebhookEventsProcessed, m.WebhookApplyRetries,
		m.ApplyBatches, m.ApplyBatchSize, m.ApplyLag, m.CommitBatchSize, m.HTTPDuration,
	)
	return m
}

// BacklogFunc reports the inbox backlog: pending events and the oldest's
// receipt time.
type BacklogFunc func(ctx context.Context) (int64, time.Time, error)

// RegisterBacklog adds gauges read from the database at scrape time: the
// number of stored webhooks not yet applied, and the age of the oldest.
func (m *Metrics) RegisterBacklog(backlog BacklogFunc, now func() time.Time) {
	read := func() (int64, time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, oldest, err := backlog(ctx)
		if err != nil {
			return -1, time.Time{}
		}
		return n, oldest
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "payoutd_inbox_backlog",
			Help: "Stored webhook events not yet applied (-1 when the database does not answer).",
		}, func() float64 { n, _ := read(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "payoutd_inbox_oldest_pending_age_seconds",
			Help: "Age of the oldest stored webhook event not yet applied (0 when none).",
		}, func() float64 {
			_, oldest := read()
			if oldest.IsZero() {
				return 0
			}
			return now().Sub(oldest).Seconds()
		}),
	)
}

// Reconcile holds the reconciliation collectors.
type Reconcile struct {
	Runs        *prometheus.CounterVec // by outcome
	Degraded    prometheus.Gauge       // 1 while runs keep failing
	LastSuccess prometheus.Gauge       // unix time of the last run that ended ok
	Duration    prometheus.Histogram
}

// NewReconcile registers the reconciliation collectors.
func (m *Metrics) NewReconcile() *Reconcile {
	r := &Reconcile{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_reconcile_runs_total", Help: "Reconciliation runs by outcome (ok, partial, failed).",
		}, []string{"outcome"}),
		Degraded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "payoutd_reconcile_degraded", Help: "1 while reconciliation keeps ending partial or failed.",
		}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "payoutd_reconcile_last_success_timestamp_seconds", Help: "Unix time the last successful reconciliation finished.",
		}),
		Duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "payoutd_reconcile_duration_seconds", Help: "Duration of reconciliation runs.",
			Buckets: []float64{.1, .5, 1, 5, 15, 30, 60, 120, 300, 600},
		}),
	}
	m.Registry.MustRegister(r.Runs, r.Degraded, r.LastSuccess, r.Duration)
	return r
}

// KYC is the follower of pending withdrawers (package kyc).
type KYC struct {
	Sweeps    *prometheus.CounterVec // by outcome: ok, error
	Calls     prometheus.Counter     // Coinflow calls the follower made
	Throttled prometheus.Counter     // of those, answered 429
	Changed   prometheus.Counter     // withdrawers whose verification changed
	Pending   prometheus.Gauge       // withdrawers pending when the last sweep began
}

// NewKYC registers the follower's metrics.
func (m *Metrics) NewKYC() *KYC {
	k := &KYC{
		Sweeps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_kyc_sweeps_total", Help: "Sweeps of withdrawers pending verification, by outcome (ok, error).",
		}, []string{"outcome"}),
		Calls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "payoutd_kyc_coinflow_calls_total", Help: "Coinflow calls made to follow pending withdrawers.",
		}),
		Throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "payoutd_kyc_throttled_total", Help: "Follower calls Coinflow answered 429 (the follower then slows down).",
		}),
		Changed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "payoutd_kyc_withdrawers_changed_total", Help: "Pending withdrawers whose verification the follower saw change.",
		}),
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "payoutd_kyc_pending_withdrawers", Help: "Withdrawers pending verification when the last sweep began.",
		}),
	}
	m.Registry.MustRegister(k.Sweeps, k.Calls, k.Throttled, k.Changed, k.Pending)
	return k
}

// Prune is the retention job that clears old stored webhook bodies
// (package inbox).
type Prune struct {
	Runs         *prometheus.CounterVec // by outcome: ok, error
	BodiesPruned prometheus.Counter     // bodies cleared
	Batch        prometheus.Histogram   // seconds per batch statement pair
	LastSuccess  prometheus.Gauge       // unix time the last run caught up
}

// NewPrune registers the retention job's metrics.
func (m *Metrics) NewPrune() *Prune {
	p := &Prune{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_inbox_prune_runs_total", Help: "Runs of the job that clears old webhook bodies, by outcome (ok, error).",
		}, []string{"outcome"}),
		BodiesPruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "payoutd_inbox_bodies_pruned_total", Help: "Stored webhook bodies cleared by retention (rows and dedup keys stay).",
		}),
		Batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "payoutd_inbox_prune_batch_seconds", Help: "Duration of one pruning batch (a short transaction of its own).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "payoutd_inbox_prune_last_success_timestamp_seconds", Help: "Unix time the last pruning run caught up.",
		}),
	}
	m.Registry.MustRegister(p.Runs, p.BodiesPruned, p.Batch, p.LastSuccess)
	return p
}
