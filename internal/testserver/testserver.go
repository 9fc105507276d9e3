// Package testserver runs payoutd's HTTP surface in-process for tests: the
// real router, webhook pipeline and store, on an httptest server, with a
// settable clock and a log hook to assert on.
package testserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/initiate"
	"github.com/payoutd/payoutd/internal/apispec"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/reconcile"
	"github.com/payoutd/payoutd/webhook"
)

// Defaults used by Start.
const (
	WebhookKey = "test-validation-key-3c1f9a7e5b2d4c6e" // the fixtures' key
	APIToken   = "test-api-token"
)

// Options tune Start.
type Options struct {
	Clock    *dbtest.Clock // default: a clock at the store's time
	Pipeline webhook.PipelineConfig
	// Coinflow, when set, enables POST /api/v1/payouts against it.
	Coinflow *coinflow.Client
	// Reconciler, when set, serves POST /api/v1/reconcile and the
	// dashboard's "reconcile now".
	Reconciler *reconcile.Reconciler
}

// Server is a running in-process payoutd.
type Server struct {
	URL      string
	Store    *models.Store
	Metrics  *metrics.Metrics
	Pipeline *webhook.Pipeline
	Clock    *dbtest.Clock
	Logs     *logtest.Hook
	Key      []byte
	// Onboard is the onboarding service behind the API (nil without
	// Options.Coinflow).
	Onboard *onboard.Service
}

// Start serves store through the real router until the test ends. The
// applier does not run by itself: tests call Drain, so that they decide when
// events are applied.
func Start(t testing.TB, store *models.Store, opts Options) *Server {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	clock := opts.Clock
	if clock == nil {
		clock = dbtest.NewClock(store.Now())
	}
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	m := metrics.New()
	m.RegisterBacklog(store.InboxBacklog, clock.Now)
	cfg := opts.Pipeline
	if cfg.Handler.Key == nil {
		cfg.Handler.Key = []byte(WebhookKey)
	}
	cfg.Handler.NowFunc = clock.Now
	cfg.Applier.NowFunc = clock.Now
	pipe, err := webhook.NewPipeline(store, logger, m, cfg)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	var (
		initiator *initiate.Service
		ob        *onboard.Service
	)
	if opts.Coinflow != nil {
		if ob, err = onboard.New(store, opts.Coinflow, logger.WithField("component", "onboard"), onboard.Config{}); err != nil {
			t.Fatalf("testserver: %v", err)
		}
		if initiator, err = initiate.New(store, opts.Coinflow, ob, logger.WithField("component", "initiate"), initiate.Config{}); err != nil {
			t.Fatalf("testserver: %v", err)
		}
	}
	router := api.NewRouter(api.Deps{
		Store: store, Metrics: m, Log: logger.WithField("component", "http"), Webhook: pipe.Handler,
		Tokens: []principal.Token{{Name: principal.APIToken, Secret: []byte(APIToken)}}, Initiator: initiator, Onboard: ob, Replayer: pipe.Applier, Reconciler: opts.Reconciler,
	})
	// Every answer a test gets is checked against the OpenAPI document.
	srv := httptest.NewServer(apispec.Handler(t, router))
	t.Cleanup(func() {
		srv.Close()
		pipe.Committer.Close()
	})
	return &Server{URL: srv.URL, Store: store, Metrics: m, Pipeline: pipe, Clock: clock, Logs: hook, Key: cfg.Handler.Key, Onboard: ob}
}

// Sign returns a Coinflow-Signature for body at the server clock's now.
func (s *Server) Sign(body []byte) string {
	return webhook.Sign(s.Key, s.Clock.Now(), body)
}

// PostWebhook posts body with the given headers and returns the status and
// response body.
func (s *Server) PostWebhook(t testing.TB, body []byte, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/webhooks/coinflow", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// PostSigned posts body signed with Coinflow-Signature at the clock's now.
func (s *Server) PostSigned(t testing.TB, body []byte) (int, string) {
	t.Helper()
	return s.PostWebhook(t, body, map[string]string{"Coinflow-Signature": s.Sign(body), "Content-Type": "application/json"})
}

// Drain applies every due stored event.
func (s *Server) Drain(t testing.TB) int {
	t.Helper()
	n, err := s.Pipeline.Applier.Drain(t.Context())
	if err != nil {
		t.Fatalf("drain applier: %v", err)
	}
	return n
}

// API sends an authenticated API request (body may be nil) and decodes a
// JSON answer into out when out is not nil.
func (s *Server) API(t testing.TB, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+APIToken)
	status, resp := do(t, req)
	if out != nil && resp != "" { // 204 has no body
		if err := json.Unmarshal([]byte(resp), out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, resp, err)
		}
	}
	return status
}

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp.StatusCode, string(b)
}
