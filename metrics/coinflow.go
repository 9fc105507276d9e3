package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Coinflow holds the Coinflow API client's collectors. It implements
// coinflow.Observer (package coinflow does not import this one: the
// interface is satisfied by its method set).
type Coinflow struct {
	// Duration is each attempt's latency, by operation: from sending to
	// the headers of Coinflow's answer.
	Duration *prometheus.HistogramVec
	// Responses counts attempts by operation and class: 2xx, 4xx, 429, 5xx,
	// or error (a transport error or a timeout).
	Responses *prometheus.CounterVec
	// Retries counts attempts sent again after a failure, by operation.
	Retries *prometheus.CounterVec
	// RateLimitWaits counts waits a 429 imposed before a retry, and
	// RateLimitWaitSeconds adds up how long they were, by operation.
	RateLimitWaits       *prometheus.CounterVec
	RateLimitWaitSeconds *prometheus.CounterVec
}

// NewCoinflow registers the client's collectors. operations and classes,
// when given (coinflow.Operations, coinflow.Classes), are declared at zero
// so that rates and alerts see every series before its first event.
func (m *Metrics) NewCoinflow(operations, classes []string) *Coinflow {
	op := []string{"operation"}
	c := &Coinflow{
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "payoutd_coinflow_request_duration_seconds",
			Help:    "Latency of each attempt of a Coinflow API call, by operation, until the headers of Coinflow's answer.",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}, op),
		Responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_coinflow_responses_total",
			Help: "Attempts of Coinflow API calls by operation and outcome class (2xx, 4xx, 429, 5xx, error: transport error or timeout).",
		}, []string{"operation", "class"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_coinflow_retries_total",
			Help: "Coinflow API attempts sent again after a failure, by operation.",
		}, op),
		RateLimitWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_coinflow_rate_limit_waits_total",
			Help: "Waits before a retry that Coinflow's 429 imposed, by operation.",
		}, op),
		RateLimitWaitSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_coinflow_rate_limit_wait_seconds_total",
			Help: "Seconds waited before retries because of Coinflow's 429, by operation.",
		}, op),
	}
	m.Registry.MustRegister(c.Duration, c.Responses, c.Retries, c.RateLimitWaits, c.RateLimitWaitSeconds)
	for _, o := range operations {
		c.Duration.WithLabelValues(o)
		c.Retries.WithLabelValues(o)
		c.RateLimitWaits.WithLabelValues(o)
		c.RateLimitWaitSeconds.WithLabelValues(o)
		for _, cl := range classes {
			c.Responses.WithLabelValues(o, cl)
		}
	}
	return c
}

// Response records one attempt.
func (c *Coinflow) Response(operation, class string, took time.Duration) {
	c.Duration.WithLabelValues(operation).Observe(took.Seconds())
	c.Responses.WithLabelValues(operation, class).Inc()
}

// Retry records an attempt about to be sent again.
func (c *Coinflow) Retry(operation string) {
	c.Retries.WithLabelValues(operation).Inc()
}

// RateLimitWait records a wait a 429 imposed.
func (c *Coinflow) RateLimitWait(operation string, wait time.Duration) {
	c.RateLimitWaits.WithLabelValues(operation).Inc()
	c.RateLimitWaitSeconds.WithLabelValues(operation).Add(wait.Seconds())
}
