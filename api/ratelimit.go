package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/ratelimit"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/metrics"
)

// RateLimit bounds each client's requests on the store's clock; a client
// is gin's ClientIP, the peer address unless the peer is one of
// Deps.TrustedProxies (an IPv6 client is its /64, see ratelimit.ClientKey).
type RateLimit struct {
	// APIPerSecond and APIBurst are each client's token bucket on /api/v1;
	// 0 per second: no limit.
	APIPerSecond, APIBurst int
	// LoginsPerMinute is how many failed dashboard logins one client may
	// make in a minute (default 10).
	LoginsPerMinute int
}

// apiRateLimit answers 429 rate_limited, with Retry-After in whole
// seconds, to a client whose bucket is empty, before its token is checked:
// a flood of wrong tokens is limited too.
func apiRateLimit(l *ratelimit.Limiter, now func() time.Time, m *metrics.RateLimit) gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, wait, ok := l.Take(ratelimit.ClientKey(c.ClientIP()), now()); !ok {
			m.Limited.WithLabelValues(c.FullPath()).Inc()
			c.Header("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
			respond.Error(c, http.StatusTooManyRequests, "rate_limited", "too many requests from this client; retry after the seconds in Retry-After")
			return
		}
		c.Next()
	}
}
