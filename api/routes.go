// Package api is payoutd's HTTP surface: every route is registered here, the
// JSON API handlers live beside it, and the webhook endpoint comes from
// package webhook.
package api

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/initiate"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/ratelimit"
	"github.com/payoutd/payoutd/internal/respond"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/reconcile"
	"github.com/payoutd/payoutd/report"
	"github.com/payoutd/payoutd/webhook"
)

// Deps is what the router needs.
type Deps struct {
	Store   *models.Store
	Metrics *metrics.Metrics
	Log     *logrus.Entry
	Webhook *webhook.Handler
	// Tokens are the API tokens, each authenticating as its name; none:
	// the API and the dashboard answer 503.
	Tokens []principal.Token
	// TrustedProxies are the proxies whose X-Forwarded-For names the
	// client (addresses or CIDRs); empty: the peer is the client.
	TrustedProxies []string
	// SecureCookies marks the dashboard's cookies Secure without TLS here
	// (dashboard.SecureCookies decides it from the configuration).
	SecureCookies bool
	RateLimit     RateLimit
	// Initiator pays out through Coinflow; nil answers 503 on POST
	// /api/v1/payouts (no Coinflow API key configured).
	Initiator *initiate.Service
	// Onboard registers withdrawers and destinations and quotes; nil
	// answers 503 on the routes that call Coinflow.
	Onboard *onboard.Service
	// Reconciler runs reconciliation on demand; nil answers 503.
	Reconciler *reconcile.Reconciler
	// Replayer applies stored webhooks again (the webhook pipeline's
	// applier); nil answers 503 on POST /api/v1/events/{id}/replay.
	Replayer Replayer
}

// NewRouter registers every route.
// The caller sets gin's mode (payoutd's run sets release mode).
func NewRouter(d Deps) *gin.Engine {
	r := gin.New()
	r.ContextWithFallback = true
	// gin trusts every proxy by default; nil trusts none, so that a client
	// cannot pick its own rate-limit bucket with X-Forwarded-For.
	var proxies []string
	if len(d.TrustedProxies) > 0 {
		proxies = d.TrustedProxies
	}
	if err := r.SetTrustedProxies(proxies); err != nil {
		panic("api: trusted proxies: " + err.Error()) // config validation checks them first
	}
	limited := d.Metrics.NewRateLimit()
	r.Use(requestID(), recovery(d.Log), observe(d.Log, d.Metrics))
	r.NoRoute(func(c *gin.Context) { respond.Error(c, http.StatusNotFound, "not_found", "no such route") })
	r.HandleMethodNotAllowed = true
	r.NoMethod(func(c *gin.Context) {
		respond.Error(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route")
	})

	r.POST("/webhooks/coinflow", d.Webhook.Handle)

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", readyz(d.Store))
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})))
	r.GET("/api/v1/openapi.json", serveOpenAPI()) // outside v1's bearer check: it holds no data

	h := &handlers{store: d.Store, log: d.Log, initiator: d.Initiator, onboard: d.Onboard, reconciler: d.Reconciler, replayer: d.Replayer}
	v1 := r.Group("/api/v1")
	if rl := d.RateLimit; rl.APIPerSecond > 0 {
		l := ratelimit.New(ratelimit.Config{Every: time.Second / time.Duration(rl.APIPerSecond), Burst: max(rl.APIBurst, 1)})
		v1.Use(apiRateLimit(l, d.Store.Now, limited))
	}
	v1.Use(bearerAuth(principal.NewTokens(d.Tokens)))
	v1.POST("/payouts", h.createPayout)
	v1.GET("/payouts", h.listPayouts)
	v1.GET("/payouts/:id", h.getPayout)
	v1.POST("/withdrawers", h.registerWithdrawer)
	v1.GET("/withdrawers/:user_id", h.getWithdrawer)
	v1.POST("/withdrawers/:user_id/destinations", h.saveDestination)
	v1.DELETE("/withdrawers/:user_id/destinations/:token", h.deleteDestination)
	v1.POST("/withdrawers/:user_id/session-key", h.sessionKey)
	v1.POST("/quotes", h.createQuote)
	v1.GET("/findings", h.listFindings)
	v1.POST("/findings/:id/acknowledge", h.acknowledgeFinding)
	v1.POST("/findings/:id/snooze", h.snoozeFinding)
	v1.POST("/reconcile", h.startReconcile)
	v1.GET("/reconcile/runs", h.listRuns)
	v1.GET("/reconcile/runs/:id", h.getRun)
	v1.GET("/reports/summary", h.reportSummary)
	v1.GET("/events", h.listEvents)
	v1.GET("/events/:id", h.getEvent)
	v1.POST("/events/:id/replay", h.replayEvent)
	dd := dashboard.Deps{
		Store: d.Store, Tokens: d.Tokens, Log: d.Log, Replayer: d.Replayer, SecureCookies: d.SecureCookies,
		LoginsPerMinute: d.RateLimit.LoginsPerMinute, RateLimit: limited,
		ReportNames: report.Names(),
		WriteReport: func(ctx context.Context, w io.Writer, name string, from, to time.Time) error {
			return report.WriteNamed(ctx, w, d.Store, name, from, to)
		},
	}
	if d.Reconciler != nil { // a nil *Reconciler in the interface would not compare nil
		dd.Reconciler = d.Reconciler
	}
	dashboard.Register(r, dd)
	return r
}

// readyz is 200 when the database answers and carries every migration.
func readyz(store *models.Store) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			respond.Error(c, http.StatusServiceUnavailable, "database_unavailable", "the database does not answer")
			return
		}
		current, err := store.MigrationsCurrent(ctx)
		if err != nil || !current {
			respond.Error(c, http.StatusServiceUnavailable, "migrations_pending", "database migrations are not current")
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ready"})
	}
}
