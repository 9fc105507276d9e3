package alert

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// start is when every test's clock begins.
var start = time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)

// request is one call a receiver got.
type request struct {
	Path   string
	Header http.Header
	Body   []byte
}

// receiver is an alert endpoint: it records every call and answers with
// respond (nil: 200) given the call's 1-based number.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []request
	respond func(n int, w http.ResponseWriter, r *http.Request)
}

func newReceiver(t *testing.T, respond func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, request{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: b})
		n := len(rc.reqs)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(n, w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// failFirst answers the first n calls with status (and a body), then 200.
func failFirst(n, status int) func(int, http.ResponseWriter, *http.Request) {
	return func(i int, w http.ResponseWriter, _ *http.Request) {
		if i <= n {
			http.Error(w, "receiver down", status)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}
}

func (rc *receiver) URL() string { return rc.srv.URL }

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.reqs)
}

func (rc *receiver) last(t *testing.T) request {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	require.NotEmpty(t, rc.reqs, "receiver got no request")
	return rc.reqs[len(rc.reqs)-1]
}

// lastJSON decodes the body of the last call.
func (rc *receiver) lastJSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rc.last(t).Body, &m))
	return m
}

// bundle is one test's alerting on a fresh store.
type bundle struct {
	store   *models.Store
	clock   *dbtest.Clock
	svc     *Service
	logs    *logtest.Hook
	metrics *metrics.Alerts
	slack   *receiver
	hook    *receiver
	pd      *receiver
}

// setupOpts tunes setup.
type setupOpts struct {
	cfg                   Config
	slack, hook, pd       func(int, http.ResponseWriter, *http.Request)
	noSlack, noHook, noPD bool
}

// each runs fn on SQLite and PostgreSQL, each with its own clock at start.
func each(t *testing.T, fn func(t *testing.T, store *models.Store, clock *dbtest.Clock)) {
	t.Helper()
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fn(t, store, clock)
	})
}

func setup(t *testing.T, store *models.Store, clock *dbtest.Clock, o setupOpts) *bundle {
	t.Helper()
	b := &bundle{store: store, clock: clock}
	cfg := o.cfg
	if !o.noSlack {
		b.slack = newReceiver(t, o.slack)
		cfg.Dispatcher.SlackWebhookURL = b.slack.URL() + "/services/T000/B000/slacksecrettoken"
	}
	if !o.noHook {
		b.hook = newReceiver(t, o.hook)
		cfg.Dispatcher.WebhookURL = b.hook.URL() + "/payoutd-alerts"
	}
	if !o.noPD {
		b.pd = newReceiver(t, o.pd)
		cfg.Dispatcher.PagerDutyRoutingKey = "pd-routing-key-secret"
		cfg.Dispatcher.PagerDutyURL = b.pd.URL() + "/v2/enqueue"
	}
	if cfg.Notifier.DashboardURL == "" {
		cfg.Notifier.DashboardURL = "https://payoutd.example.com/"
	}
	b.svc, b.logs, b.metrics = newService(t, store, cfg)
	return b
}

// newService builds alerting as serve does, logging into a test hook.
func newService(t *testing.T, store *models.Store, cfg Config) (*Service, *logtest.Hook, *metrics.Alerts) {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	m := metrics.New().RegisterFindings(store, store.Now)
	svc, err := New(store, logger.WithField("component", "alert"), m, cfg)
	require.NoError(t, err)
	return svc, hook, m
}

// raise records a finding's condition, as a run or the webhook applier does.
func raise(t *testing.T, store *models.Store, kind models.FindingKind, subject string, sev models.Severity) *models.Finding {
	t.Helper()
	f, _, err := store.FindingRaise(t.Context(), models.Finding{
		Kind: kind, Subject: subject, Severity: sev, PayoutID: &subject,
		Details: models.Details{"status": "pending"},
	})
	require.NoError(t, err)
	return f
}

// tick sweeps and delivers once, as Run does on each interval.
func (b *bundle) tick(t *testing.T) {
	t.Helper()
	_, err := b.svc.Notifier.Sweep(t.Context())
	require.NoError(t, err)
	_, err = b.svc.Dispatcher.DispatchOnce(t.Context())
	require.NoError(t, err)
}

// rows lists the outbox, optionally one sink's.
func (b *bundle) rows(t *testing.T, sink string) []models.AlertOutbox {
	t.Helper()
	rs, err := b.store.AlertList(t.Context(), sink)
	require.NoError(t, err)
	return rs
}

// logged counts log entries with message msg.
func logged(h *logtest.Hook, msg string) int {
	n := 0
	for _, e := range h.AllEntries() {
		if e.Message == msg {
			n++
		}
	}
	return n
}

// deliveries reads the delivery counter for sink and outcome.
func deliveries(t *testing.T, m *metrics.Alerts, sink, outcome string) float64 {
	t.Helper()
	c, err := m.Deliveries.GetMetricWithLabelValues(sink, outcome)
	require.NoError(t, err)
	var pb dto.Metric
	require.NoError(t, c.Write(&pb))
	return pb.GetCounter().GetValue()
}
