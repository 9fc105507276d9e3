package dashboard_test

import (
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

var t0 = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)

const token = "dash-test-token-5e1f0c"

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
		u, hook := serve(t, store, clock, dashboard.Deps{Token: []byte(token)})
		fn(t, &env{URL: u, Store: store, Clock: clock, Fx: fx, Logs: hook})
	})
}

var (
	findingRow = regexp.MustCompile(`data-finding-id="([^"]+)"`)
	payoutRow  = regexp.MustCompile(`data-payout-id="([^"]+)"`)
	runRow     = regexp.MustCompile(`data-run-id="([^"]+)"`)
	scriptTag  = regexp.MustCompile(`<script\b[^>]*>`)
	chartData  = regexp.MustCompile(`(?s)<script type="application/json" id="chart-data">(.*?)</script>`)
)

func matches(re *regexp.Regexp, body string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
