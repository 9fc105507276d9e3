package dashboard

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"html/template"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/ratelimit"
	"github.com/payoutd/payoutd/internal/reqlog"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// Deps is what the dashboard needs.
type Deps struct {
	Store *models.Store
	// Tokens are the API tokens one logs in with, each under its name;
	// the dashboard answers 503 without one.
	Tokens []principal.Token
	Log    *logrus.Entry
	// SecureCookies marks the session cookie Secure even when the request
	// did not arrive over TLS here (TLS ends at a proxy in front); see
	// SecureCookies for how the configuration decides it.
	SecureCookies bool
	// LoginsPerMinute is how many failed logins one client may make in a
	// minute before /login answers 429 (default 10).
	LoginsPerMinute int
	// RateLimit counts the logins refused by that limit; nil: not counted.
	RateLimit *metrics.RateLimit
	// NowFunc is the clock for sessions and chart windows; default the
	// store's clock.
	NowFunc func() time.Time
	// Replayer applies a stored webhook again (inbox.Applier.Replay, the
	// one replay path the API and payoutd replay use too); nil: the replay
	// form answers 503.
	Replayer Replayer
	// Reconciler starts a reconciliation run for the "reconcile now"
	// button; nil: the button is shown disabled and its POST answers 503.
	Reconciler RunStarter
	// ReportNames are the CSV reports the Reports page offers, and
	// WriteReport writes the one named for [from, to): UTC midnights, to
	// excluded, as report.Build takes them. Without WriteReport the page
	// offers no download.
	ReportNames []string
	WriteReport func(ctx context.Context, w io.Writer, name string, from, to time.Time) error
}

// Replayer applies a stored webhook again, recording who asked.
type Replayer interface {
	Replay(ctx context.Context, id int64, by string) (*models.EventReplay, error)
}

// contentSecurityPolicy allows nothing but the daemon's own scripts, styles
// and images, no inline script or style, no framing, and forms that post
// back here only.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxFormBytes bounds a form body; the largest field is a 2000-byte note.
const maxFormBytes = 64 << 10

type handler struct {
	store    *models.Store
	log      *logrus.Entry
	sessions *sessions
	secure   bool
	logins   *ratelimit.Limiter
	limited  *metrics.RateLimit
	now      func() time.Time
	pages    map[string]*template.Template
	assets   *assetSet
	replayer Replayer

	reconciler  RunStarter
	reportNames []string
	writeReport func(ctx context.Context, w io.Writer, name string, from, to time.Time) error
}

// Register adds the dashboard's routes to r: GET / and the pages under it,
// /login, /logout and /assets/. It panics when Deps has no store or the
// embedded templates do not parse, both programmer errors at startup.
func Register(r *gin.Engine, d Deps) {
	if d.Store == nil {
		panic("dashboard: Deps.Store is nil")
	}
	assets := mustLoadAssets()
	now := d.NowFunc
	if now == nil {
		now = d.Store.Now
	}
	h := &handler{
		store:    d.Store,
		log:      d.Log,
		sessions: newSessions(d.Tokens),
		secure:   d.SecureCookies,
		logins:   newLoginLimiter(cmp.Or(d.LoginsPerMinute, 10)),
		limited:  d.RateLimit,
		now:      now,
		assets:   assets,
		replayer: d.Replayer,

		reconciler:  d.Reconciler,
		reportNames: d.ReportNames,
		writeReport: d.WriteReport,
	}
	h.pages = mustParsePages(assets, h.now)
	mustAddReportsPage(h.pages)
	if h.log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		h.log = logrus.NewEntry(l)
	}
	h.log = h.log.WithField("component", "dashboard")

	r.GET("/assets/*name", securityHeaders(false), h.asset)

	g := r.Group("", securityHeaders(true), h.requireToken)
	g.GET("/login", h.loginForm)
	g.POST("/login", limitBody, h.login)
	g.POST("/logout", limitBody, h.logout)

	authed := g.Group("", h.requireSession)
	authed.GET("/", h.overview)
	authed.GET("/findings", h.findings)
	authed.POST("/findings/:id/acknowledge", limitBody, h.requireCSRF, h.acknowledge)
	authed.POST("/findings/:id/snooze", limitBody, h.requireCSRF, h.snooze)
	authed.GET("/runbook", h.runbook)
	authed.GET("/payouts", h.payouts)
	authed.GET("/payouts/:id", h.payout)
	authed.GET("/withdrawers", h.withdrawers)
	authed.GET("/withdrawers/:user_id", h.withdrawer)
	authed.GET("/events", h.events)
	authed.GET("/events/:id", h.event)
	authed.POST("/events/:id/replay", limitBody, h.requireCSRF, h.replay)
	authed.GET("/runs", h.runs)
	authed.GET("/runs/:id", h.run)
	authed.POST("/reconcile", limitBody, h.requireCSRF, h.reconcileNow)
	authed.GET("/reports", h.reports)
	authed.GET("/reports/download", h.reportDownload)
}

// securityHeaders sets the headers every dashboard answer carries; pages
// (not the static assets) are also kept out of caches: they show money.
func securityHeaders(page bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		hd := c.Writer.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		// same-origin, not no-referrer: under no-referrer a browser sends
		// "Origin: null" with every form, which the CSRF check must refuse.
		// Other sites still get no Referer.
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		if page {
			hd.Set("Cache-Control", "no-store")
		}
		c.Next()
	}
}

func limitBody(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	c.Next()
}

// view is what every page template gets.
type view struct {
	Title  string
	Active string // the nav entry to highlight
	CSRF   string // for the forms of a logged-in page; "" when logged out
	User   string // the name of the token the session logged in with
	Data   any
}

// logger is the dashboard's log entry with the request's id.
func (h *handler) logger(c *gin.Context) *logrus.Entry {
	return reqlog.Entry(c.Request.Context(), h.log)
}

// render executes a page into a buffer first, so that a template error
// answers a clean 500 rather than half a page.
func (h *handler) render(c *gin.Context, status int, name string, v view) {
	t, ok := h.pages[name]
	if !ok {
		panic("dashboard: no page template " + name)
	}
	if s := sessionOf(c); s != "" {
		v.CSRF = h.sessions.csrf(s)
		v.User = principal.Name(c)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		h.logger(c).WithError(err).WithField("page", name).Error("render page")
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

type errorPage struct {
	Heading string
	Message string
	Back    string // a link to offer, or ""
}

// fail renders an error page with a fixed message and aborts.
func (h *handler) fail(c *gin.Context, status int, heading, message, back string) {
	h.render(c, status, "error", view{Title: heading, Data: errorPage{Heading: heading, Message: message, Back: back}})
	c.Abort()
}

// storeError answers for a store error: 404 for what does not exist, 400
// for a cursor this server did not issue, 500 for amounts too large to add
// up, 503 when the database cannot be reached, else 500; every 5xx is
// logged, and none shows the error's text.
func (h *handler) storeError(c *gin.Context, err error, what, back string) {
	switch {
	case errors.Is(err, models.ErrNotFound):
		h.fail(c, http.StatusNotFound, "Not found", "There is no "+what+" with that id.", back)
	case errors.Is(err, models.ErrBadCursor):
		h.fail(c, http.StatusBadRequest, "Bad page link", "That page link is not one this dashboard made.", back)
	case errors.Is(err, models.ErrOverflow):
		// Retrying cannot help: a stored amount is wrong and must be fixed.
		h.logger(c).WithError(err).WithField("route", c.FullPath()).Error("store request")
		h.fail(c, http.StatusInternalServerError, "Amounts too large",
			"Stored amounts add up to more than payoutd can count: a payout's amount is wrong. The log names the sum.", back)
	case errors.Is(err, models.ErrUnavailable):
		h.logger(c).WithError(err).WithField("route", c.FullPath()).Error("store unavailable")
		h.fail(c, http.StatusServiceUnavailable, "Database unavailable",
			"The database did not answer. Try again in a moment.", back)
	default:
		h.logger(c).WithError(err).WithField("route", c.FullPath()).Error("store request")
		h.fail(c, http.StatusInternalServerError, "Something went wrong",
			"The page could not be built; the error has been logged.", back)
	}
}
