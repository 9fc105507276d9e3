package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

// gate holds every request to Coinflow while closed, so that a test can
// keep a run going.
type gate struct {
	mu     sync.Mutex
	closed chan struct{}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	wait := g.closed
	g.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = make(chan struct{})
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
}

// newReconciler is a reconciler against the emulator, its requests passing
// through g.
func newReconciler(t *testing.T, store *models.Store, clock *dbtest.Clock, g *gate) *reconcile.Reconciler {
	t.Helper()
	emu := coinflowtest.NewServer(coinflowtest.Options{APIKey: "dash-api-key", Start: clock.Now(), SignNowFunc: clock.Now})
	t.Cleanup(emu.Close)
	cf, err := coinflow.New(coinflow.Config{
		BaseURL: emu.URL, APIKey: "dash-api-key", Timeout: 5 * time.Second, MaxAttempts: 1,
		HTTPClient: &http.Client{Transport: g},
	})
	require.NoError(t, err)
	logger, _ := logtest.NewNullLogger()
	rec, err := reconcile.New(store, cf, logger.WithField("component", "reconcile"), metrics.New().NewReconcile(), reconcile.Config{})
	require.NoError(t, err)
	return rec
}

// runs lists every run, newest first.
func runs(t *testing.T, store *models.Store) []models.ReconcileRun {
	t.Helper()
	rs, _, err := store.RunList(t.Context(), models.Page{Limit: 500})
	require.NoError(t, err)
	return rs
}

func TestDashboardReconcileNow(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		g := &gate{}
		t.Cleanup(g.open)
		u, _ := serve(t, store, clock, dashboard.Deps{Tokens: sharedToken(token), Reconciler: newReconciler(t, store, clock, g)})
		c := dashboardtest.Login(t, u, token)
		page := c.Get(t, "/runs")
		require.Equal(t, http.StatusOK, page.Status)
		require.Contains(t, page.Body, `<button type="submit" id="reconcile-now">Reconcile now</button>`)
		csrf := dashboardtest.CSRF(t, page.Body)
		reports := c.Get(t, "/reports")
		require.Contains(t, reports.Body, `<button type="submit" id="reconcile-now">Reconcile now</button>`, "on the Reports page too")

		// Refused, starting nothing: no CSRF token, a wrong one, another
		// site's form, no session.
		for what, try := range map[string]func() dashboardtest.Response{
			"no token":    func() dashboardtest.Response { return c.PostForm(t, "/reconcile", url.Values{}) },
			"wrong token": func() dashboardtest.Response { return c.PostForm(t, "/reconcile", url.Values{"csrf": {csrf + "x"}}) },
			"cross-site": func() dashboardtest.Response {
				return c.Do(t, http.MethodPost, "/reconcile", url.Values{"csrf": {csrf}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
			},
			"no session": func() dashboardtest.Response {
				return dashboardtest.NewClient(u).PostForm(t, "/reconcile", url.Values{"csrf": {csrf}})
			},
			"a GET": func() dashboardtest.Response { return c.Get(t, "/reconcile?csrf="+url.QueryEscape(csrf)) },
		} {
			resp := try()
			require.Contains(t, []int{http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed}, resp.Status, what)
			require.Empty(t, runs(t, store), what)
		}

		// With the token: a run, and its page.
		g.close()
		resp := c.PostForm(t, "/reconcile", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		rs := runs(t, store)
		require.Len(t, rs, 1)
		require.Equal(t, "dashboard", rs[0].Trigger)
		require.Equal(t, "/runs/"+rs[0].ID, resp.Header.Get("Location"))
		run := c.Get(t, resp.Header.Get("Location"))
		require.Equal(t, http.StatusOK, run.Status)
		require.Contains(t, run.Body, `<span class="badge outcome-running">running</span>`)

		// While it runs, another press is refused plainly.
		resp = c.PostForm(t, "/reconcile", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusConflict, resp.Status)
		require.Contains(t, resp.Body, "A reconciliation run is already going, so no other was started.")
		require.Len(t, runs(t, store), 1)

		g.open()
		require.Eventually(t, func() bool {
			r, err := store.RunGet(t.Context(), rs[0].ID)
			return err == nil && r.Outcome != models.RunRunning
		}, 20*time.Second, 20*time.Millisecond)
		r, err := store.RunGet(t.Context(), rs[0].ID)
		require.NoError(t, err)
		require.Equal(t, models.RunOK, r.Outcome, "against the emulator, the run completes: %v", r.Problems)

		// Once it is over, the button starts another.
		resp = c.PostForm(t, "/reconcile", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.Len(t, runs(t, store), 2)
		require.Eventually(t, func() bool {
			r, err := store.RunGet(t.Context(), runs(t, store)[0].ID)
			return err == nil && r.Outcome != models.RunRunning
		}, 20*time.Second, 20*time.Millisecond)
	})
}

func TestDashboardReconcileNotConfigured(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	u, _ := serve(t, store, dbtest.NewClock(store.Now()), dashboard.Deps{Tokens: sharedToken(token)})
	c := dashboardtest.Login(t, u, token)
	page := c.Get(t, "/runs")
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, `<button type="submit" id="reconcile-now" disabled aria-describedby="reconcile-off">Reconcile now</button>`)
	require.Contains(t, page.Body, `<span class="muted" id="reconcile-off">Reconciliation is not configured: payoutd has no Coinflow API key (coinflow.api_key)`)
	resp := c.PostForm(t, "/reconcile", url.Values{"csrf": {dashboardtest.CSRF(t, page.Body)}})
	require.Equal(t, http.StatusServiceUnavailable, resp.Status)
	require.Contains(t, resp.Body, "Reconciliation not configured")
	require.True(t, strings.Contains(resp.Body, "no Coinflow API key"))
	require.Empty(t, runs(t, store))
}
