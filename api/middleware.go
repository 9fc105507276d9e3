package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/metrics"
)

// requestID gives each request an id: the caller's X-Request-Id when
// reqlog accepts it, else a new one. The id is set on the response before
// anything else runs, so every answer carries it (errors, 404s, recovered
// panics), and the request's context carries it, for reqlog.Entry to add
// to every line logged while serving the request.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(reqlog.Header)
		if !reqlog.Accept(id) {
			id = reqlog.New()
		}
		c.Header(reqlog.Header, id)
		c.Request = c.Request.WithContext(reqlog.With(c.Request.Context(), id))
		c.Next()
	}
}

// recovery turns a panic into a logged 500 with a fixed message.
func recovery(log *logrus.Entry) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					// A deliberate abort (respond.Abort): net/http must see
					// it to cut the connection under a response begun.
					panic(r)
				}
				reqlog.Entry(c.Request.Context(), log).WithFields(logrus.Fields{"route": c.FullPath(), "panic": r}).Error("handler panicked")
				if c.Writer.Written() {
					// Part of an answer is out: an error body after it would
					// make it look whole. Cut the connection instead.
					panic(http.ErrAbortHandler)
				}
				respond.Internal(c)
			}
		}()
		c.Next()
	}
}

// observe logs each request (route template, never the query: it may hold
// user ids and cursors) and records its latency.
func observe(log *logrus.Entry, m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		status := c.Writer.Status()
		elapsed := time.Since(start)
		m.HTTPDuration.WithLabelValues(c.Request.Method, route, strconv.Itoa(status)).Observe(elapsed.Seconds())
		if route == "/metrics" || route == "/healthz" || route == "/readyz" {
			return
		}
		level := logrus.DebugLevel
		if status >= 500 {
			level = logrus.WarnLevel
		}
		if !log.Logger.IsLevelEnabled(level) {
			return // the fields are not even built: this runs on every webhook
		}
		reqlog.Entry(c.Request.Context(), log).WithFields(logrus.Fields{
			"method": c.Request.Method, "route": route, "status": status, "duration_ms": elapsed.Milliseconds(),
		}).Log(level, "request")
	}
}

// bearerAuth requires Authorization: Bearer <token>, one of the configured
// tokens (compared with every one in constant time), and records the
// token's name as the request's principal; with no token configured the API
// answers 503.
func bearerAuth(tokens *principal.Tokens) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !tokens.Configured() {
			respond.Error(c, http.StatusServiceUnavailable, "not_configured", "api token not configured")
			return
		}
		// The scheme name is case-insensitive (RFC 7235); the token is not.
		scheme, got, ok := strings.Cut(c.GetHeader("Authorization"), " ")
		tok, matched := tokens.Match(got)
		if !ok || !strings.EqualFold(scheme, "Bearer") || !matched {
			c.Header("WWW-Authenticate", `Bearer realm="payoutd"`)
			respond.Error(c, http.StatusUnauthorized, "unauthorized", "missing or wrong API token")
			return
		}
		principal.Set(c, tok.Name)
		c.Next()
	}
}
