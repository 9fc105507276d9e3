package metrics

import "github.com/prometheus/client_golang/prometheus"

// RateLimit counts requests refused by a per-client rate limit.
type RateLimit struct {
	// Limited is by route: "/login" for failed logins, an /api/v1 route
	// template for the API.
	Limited *prometheus.CounterVec
}

// NewRateLimit registers the rate limits' metrics.
func (m *Metrics) NewRateLimit() *RateLimit {
	r := &RateLimit{
		Limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payoutd_rate_limited_total", Help: "Requests answered 429 by a per-client rate limit, by route.",
		}, []string{"route"}),
	}
	m.Registry.MustRegister(r.Limited)
	return r
}
