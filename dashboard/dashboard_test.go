package dashboard_test

import (
	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/metrics"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/models"
)

var t0 = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)

const token = "dash-test-token-5e1f0c"

// Named tokens beside token (which logs in as principal.APIToken).
const (
	aliceToken = "alice-token-0123456789"
	bobToken   = "bob-token-9876543210ab"
)

// tokens is the configuration every dashboard under test gets.
var tokens = []principal.Token{
	{Name: principal.APIToken, Secret: []byte(token)},
	{Name: "alice", Secret: []byte(aliceToken)},
	{Name: "bob", Secret: []byte(bobToken)},
}

type env struct {
	URL   string
	Store *models.Store
	Clock *dbtest.Clock
	Fx    *dashboardtest.Fixture
	Logs  *logtest.Hook
}

// serve runs the dashboard alone on a gin engine, as NewRouter registers it.
func serve(t *testing.T, store *models.Store, clock *dbtest.Clock, d dashboard.Deps) (string, *logtest.Hook) {
	t.Helper()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	logger, hook := logtest.NewNullLogger()
	d.Store = store
	d.Log = logger.WithField("component", "http")
	if d.NowFunc == nil {
		d.NowFunc = clock.Now
	}
	if d.Replayer == nil {
		applier, err := inbox.NewApplier(store, d.Log, metrics.New(), inbox.ApplierConfig{NowFunc: clock.Now})
		require.NoError(t, err)
		d.Replayer = applier
	}
	dashboard.Register(r, d)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv.URL, hook
}

// eachDB runs fn on both databases, each seeded by dashboardtest.Seed with
// the clock at t0 when it ends.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		fx := dashboardtest.Seed(t, store, clock, t0)
		u, hook := serve(t, store, clock, dashboard.Deps{Tokens: tokens})
		fn(t, &env{URL: u, Store: store, Clock: clock, Fx: fx, Logs: hook})
	})
}

var (
	findingRow    = regexp.MustCompile(`data-finding-id="([^"]+)"`)
	payoutRow     = regexp.MustCompile(`data-payout-id="([^"]+)"`)
	runRow        = regexp.MustCompile(`data-run-id="([^"]+)"`)
	withdrawerRow = regexp.MustCompile(`data-withdrawer-id="([^"]+)"`)
	scriptTag     = regexp.MustCompile(`<script\b[^>]*>`)
	chartData     = regexp.MustCompile(`(?s)<script type="application/json" id="chart-data">(.*?)</script>`)
)

func matches(re *regexp.Regexp, body string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// newestPayouts are the ids of the seeded payouts keep keeps, newest first
// as the lists show them.
func newestPayouts(fx *dashboardtest.Fixture, keep func(p *models.Payout) bool) []string {
	return fx.NewestPayouts(keep)
}

// getList gets the list at path with query and requires that it shows the
// rows want (as row finds them), empty when there are none, and each
// filter of the query that has a select chosen in it; it returns the page.
func getList(t *testing.T, c *dashboardtest.Client, path, query string, row *regexp.Regexp, want []string, empty string) string {
	t.Helper()
	resp := c.Get(t, path+"?"+query)
	require.Equal(t, http.StatusOK, resp.Status, query)
	require.Equal(t, want, matches(row, resp.Body), query)
	if len(want) == 0 {
		require.Contains(t, resp.Body, empty, query)
	}
	q, err := url.ParseQuery(query)
	require.NoError(t, err)
	for k := range q {
		if strings.Contains(resp.Body, `<select name="`+k+`">`) {
			require.Contains(t, resp.Body, `<option value="`+q.Get(k)+`" selected>`, query)
		}
	}
	return resp.Body
}

// sharedToken is the configuration of the single api.token.
func sharedToken(token string) []principal.Token {
	return []principal.Token{{Name: principal.APIToken, Secret: []byte(token)}}
}
