package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

// The browser test drives the dashboard in headless Chromium from Debian's
// chromium package (apt-get install -y chromium). It needs no PostgreSQL: an
// in-process payoutd (the real router, dashboard registered) serves a seeded
// SQLite store. Without a chromium binary it skips, except in CI (CI=true),
// where it fails. PAYOUTD_CHROMIUM names another binary; screenshots go to
// $PAYOUTD_ARTIFACTS/browser, or to a new directory under the system's
// temporary directory that is kept and logged.

// chromiumNames are the binaries tried on PATH, Debian's first.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PAYOUTD_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("no chromium binary on PATH (tried %s), and CI requires the browser test: apt-get install -y chromium",
			strings.Join(chromiumNames, ", "))
	}
	t.Skipf("browser test skipped: no chromium binary on PATH (tried %s); install it with apt-get install -y chromium",
		strings.Join(chromiumNames, ", "))
	return ""
}

func artifactsDir(t *testing.T) string {
	t.Helper()
	if base := os.Getenv("PAYOUTD_ARTIFACTS"); base != "" {
		dir := filepath.Join(base, "browser")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		return dir
	}
	dir, err := os.MkdirTemp("", "payoutd-browser-")
	require.NoError(t, err)
	return dir
}

// browser is one Chromium tab with its console recorded.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

func startBrowser(t *testing.T, exe, base string) *browser {
	t.Helper()
	var stderr bytes.Buffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// This machine's network is closed: no background fetches.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&stderr),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// The whole session is bounded, so a hung browser fails the test.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("chromium output:\n%s", stderr.String())
		}
	})
	b := &browser{t: t, ctx: ctx, base: base, artifacts: artifactsDir(t)}
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)), "start chromium %s", exe)
	messages := chromedp.Console(ctx) // subscribed now; read below
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	t.Logf("chromium %s; screenshots in %s", exe, b.artifacts)
	return b
}

// do runs actions, failing the test on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...), what)
}

// navigate follows the actions' navigation (a click, a submit) and checks
// the document's status.
func (b *browser) navigate(what string, status int64, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, actions...)
	require.NoError(b.t, err, what)
	require.Equal(b.t, status, resp.Status, "%s: %s", what, resp.URL)
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.navigate("open "+path, http.StatusOK, chromedp.Navigate(b.base+path))
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	require.NoError(b.t, err, "evaluate %s", js)
	return v
}

func (b *browser) location() *url.URL {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	require.NoError(b.t, err)
	u, err := url.Parse(loc)
	require.NoError(b.t, err)
	return u
}

// screenshot keeps a full-page PNG of what the tab shows now.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(b.t, err, "screenshot %s", name)
	require.True(b.t, bytes.HasPrefix(png, []byte("\x89PNG")), "screenshot %s is a PNG", name)
	path := filepath.Join(b.artifacts, name+".png")
	require.NoError(b.t, os.WriteFile(path, png, 0o644))
	b.t.Logf("screenshot: %s", path)
}

// requireCleanConsole fails on any console error, failed assertion,
// uncaught exception or browser log error (a refused script, a blocked
// resource) seen so far, and logs the rest.
func (b *browser) requireCleanConsole(where string) {
	b.t.Helper()
	var bad []string
	for _, m := range b.drainConsole() {
		line := fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1)
		switch m.Type {
		case chromedp.ConsoleError, chromedp.ConsoleException, "assert":
			bad = append(bad, line)
		default:
			b.t.Logf("console %s", line)
		}
	}
	require.Empty(b.t, bad, "console errors %s", where)
}

// drainConsole returns and forgets the console messages so far.
func (b *browser) drainConsole() []chromedp.ConsoleMessage {
	b.t.Helper()
	// One round trip and a moment, so that events the browser sent before
	// it have been read.
	_ = eval[int](b, "1")
	time.Sleep(200 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	msgs := b.console
	b.console = nil
	return msgs
}

// login logs the tab in with the API token from the login form it is on
// (the dashboard sends every page there first) and requires that it lands
// on path.
func (b *browser) login(path string) {
	b.t.Helper()
	b.open(path)
	require.Equal(b.t, "/login", b.location().Path)
	b.navigate("log in", http.StatusOK,
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), testserver.APIToken),
		chromedp.Submit(chromedp.CSS(`form[action="/login"]`)))
	require.Equal(b.t, path, b.location().Path)
}

// viewport sets the tab's size: a desktop window at width 1,400 and more,
// a phone (touch, twice the pixels) below 640.
func (b *browser) viewport(width, height int64) {
	b.t.Helper()
	if width < 640 {
		b.do("phone viewport", chromedp.EmulateViewport(width, height, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
		return
	}
	b.do("viewport", chromedp.EmulateViewport(width, height))
}

// box is an element's bounding box as the page lays it out, in CSS pixels.
type box struct {
	Found  bool    `json:"found"`
	Left   float64 `json:"left"`
	Right  float64 `json:"right"`
	Top    float64 `json:"top"`
	Width  float64 `json:"width"`
	Inner  float64 `json:"inner"` // the window's width
	Client float64 `json:"client"`
}

// boxOf scrolls the element css selects into view vertically and returns
// its bounding box.
func (b *browser) boxOf(css string) box {
	b.t.Helper()
	sel, err := json.Marshal(css)
	require.NoError(b.t, err)
	return eval[box](b, `(() => {
  const el = document.querySelector(`+string(sel)+`);
  if (!el) return {found: false};
  el.scrollIntoView({block: "center", inline: "nearest"});
  const r = el.getBoundingClientRect();
  return {found: true, left: r.left, right: r.right, top: r.top, width: r.width,
    inner: window.innerWidth, client: document.documentElement.clientWidth};
})()`)
}

// requireInViewport fails unless the element css selects is shown and
// lies within the window's width.
func (b *browser) requireInViewport(css, what string) {
	b.t.Helper()
	bx := b.boxOf(css)
	require.True(b.t, bx.Found, "%s: no element %s", what, css)
	require.Positive(b.t, bx.Width, "%s: %s is not shown", what, css)
	require.GreaterOrEqual(b.t, bx.Left, 0.0, "%s: %s starts left of the window (%+v)", what, css, bx)
	require.LessOrEqual(b.t, bx.Right, bx.Client, "%s: %s ends right of the window (%+v)", what, css, bx)
}

// pageText is the visible text of the page's main element.
func (b *browser) pageText() string {
	b.t.Helper()
	return eval[string](b, `document.getElementById("main").innerText`)
}

type chartState struct {
	Instances int    `json:"instances"`
	Version   string `json:"version"`
	Charts    []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Datasets int    `json:"datasets"`
		Points   int    `json:"points"`
		Width    int    `json:"width"`
		Painted  int    `json:"painted"`
	} `json:"charts"`
}

// chartsJS reports the Chart.js instances and, for each canvas, its chart
// and how many pixels it painted.
const chartsJS = `(() => {
  const ids = ["chart-volume", "chart-findings", "chart-wallet"];
  return {
    instances: Object.keys(Chart.instances).length,
    version: Chart.version,
    charts: ids.map((id) => {
      const canvas = document.getElementById(id);
      const chart = canvas && Chart.getChart(canvas);
      let painted = 0;
      if (canvas && canvas.width && canvas.height) {
        const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
      }
      return {
        id, type: chart ? chart.config.type : "",
        datasets: chart ? chart.data.datasets.length : 0,
        points: chart ? chart.data.labels.length : 0,
        width: canvas ? canvas.width : 0, painted,
      };
    }),
  };
})()`

type overflow struct {
	Scroll int `json:"scroll"`
	Client int `json:"client"`
	Body   int `json:"body"`
	Inner  int `json:"inner"`
}

const overflowJS = `({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  body: document.body.scrollWidth, inner: window.innerWidth})`

// seeded is an in-process payoutd on a seeded SQLite store.
type seeded struct {
	clock *dbtest.Clock
	store *models.Store
	fx    *dashboardtest.Fixture
	srv   *testserver.Server
}

func startSeeded(t *testing.T, events bool) (seeded, *dashboardtest.Events) {
	now := time.Now().UTC().Truncate(time.Second)
	s := seeded{clock: dbtest.NewClock(now)}
	s.store = dbtest.SQLite(t, dbtest.Options{NowFunc: s.clock.Now})
	s.fx = dashboardtest.Seed(t, s.store, s.clock, now)
	var ev *dashboardtest.Events
	if events {
		ev = dashboardtest.SeedEvents(t, s.store, s.clock, s.fx)
	}
	s.srv = testserver.Start(t, s.store, testserver.Options{Clock: s.clock})
	return s, ev
}

func TestBrowserDashboard(t *testing.T) {
	exe := findChromium(t)
	s, _ := startSeeded(t, false)
	store, fx, srv := s.store, s.fx, s.srv
	b := startBrowser(t, exe, srv.URL)
	ctx := t.Context()

	// Not logged in: the dashboard sends the browser to the login form.
	b.open("/")
	require.Equal(t, "/login", b.location().Path)
	require.Equal(t, "/", b.location().Query().Get("next"))
	b.screenshot("01-login")

	// A wrong token is refused.
	b.navigate("wrong token", http.StatusUnauthorized,
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), "not-the-token"),
		chromedp.Submit(chromedp.CSS(`form[action="/login"]`)))
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(`.error`)))
	require.NoError(t, err)
	require.Contains(t, text, "not the API token")
	// The browser logs the 401 document as a failed load, and nothing else.
	for _, m := range b.drainConsole() {
		if m.Type == chromedp.ConsoleError {
			require.Contains(t, m.Text, "status of 401", "console: %s", m)
		}
	}

	b.navigate("log in", http.StatusOK,
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), testserver.APIToken),
		chromedp.Submit(chromedp.CSS(`form[action="/login"]`)))
	require.Equal(t, "/", b.location().Path)

	// The session cookie as the browser keeps it.
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL}})
	require.NoError(t, err)
	var session *network.Cookie
	for _, ck := range cookies.Cookies {
		if ck.Name == dashboardtest.CookieName {
			session = ck
		}
	}
	require.NotNil(t, session, "session cookie")
	require.True(t, session.HTTPOnly)
	require.Equal(t, network.CookieSameSiteStrict, session.SameSite)
	require.Equal(t, "/", session.Path)
	require.Empty(t, eval[string](b, "document.cookie"), "scripts cannot read the session")

	// Overview: three charts drawn by the vendored Chart.js.
	b.do("charts drawn", chromedp.WaitReady(chromedp.CSS(`html[data-charts="ready"]`)))
	charts := eval[chartState](b, chartsJS)
	require.Equal(t, 3, charts.Instances, "Chart.instances")
	require.Equal(t, "4.4.9", charts.Version)
	wantType := map[string]string{"chart-volume": "bar", "chart-findings": "bar", "chart-wallet": "line"}
	for _, c := range charts.Charts {
		require.Equal(t, wantType[c.ID], c.Type, c.ID)
		require.Positive(t, c.Datasets, c.ID)
		require.Positive(t, c.Points, c.ID)
		require.Greater(t, c.Width, 200, c.ID)
		require.Greater(t, c.Painted, 1000, "%s painted pixels", c.ID)
	}
	require.Equal(t, 6, charts.Charts[0].Datasets, "one stacked dataset per payout status")
	require.Equal(t, 3, charts.Charts[1].Datasets, "open findings stacked by severity: error, warning, info")
	require.Equal(t, len(fx.Snapshots), charts.Charts[2].Points, "a point per wallet snapshot")
	b.screenshot("02-overview")
	b.requireCleanConsole("on the overview")

	// Findings: filter by kind and severity with the form.
	b.navigate("findings", http.StatusOK, chromedp.Click(chromedp.CSS(`nav a[href="/findings"]`)))
	b.do("filter",
		chromedp.SetValue(chromedp.CSS(`select[name="kind"]`), string(models.KindStuckPayout)),
		chromedp.SetValue(chromedp.CSS(`select[name="severity"]`), string(models.SeverityWarning)))
	b.navigate("apply filter", http.StatusOK, chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	q := b.location().Query()
	require.Equal(t, "stuck_payout", q.Get("kind"))
	require.Equal(t, "warning", q.Get("severity"))
	var wantIDs []string
	for _, f := range fx.Findings {
		if f.Kind == models.KindStuckPayout && f.Severity == models.SeverityWarning {
			wantIDs = append(wantIDs, f.ID)
		}
	}
	require.Len(t, wantIDs, 2)
	rows := eval[[]string](b, `[...document.querySelectorAll("tr[data-finding-id]")].map((r) => r.dataset.findingId)`)
	require.Equal(t, wantIDs, rows)
	b.screenshot("03-findings-filtered")

	// Acknowledge the first one through its form.
	target, other := rows[0], rows[1]
	row := `tr[data-finding-id="` + target + `"] `
	note := "Checked with Coinflow support <ticket 4471>"
	b.do("open the form",
		chromedp.Click(chromedp.CSS(row+"details.ack-form summary")),
		chromedp.WaitVisible(chromedp.CSS(row+`textarea[name="note"]`)),
		chromedp.SendKeys(chromedp.CSS(row+`textarea[name="note"]`), note))
	b.screenshot("04-acknowledge-form")
	b.navigate("acknowledge", http.StatusOK, chromedp.Click(chromedp.CSS(row+`button[type="submit"]`)))
	require.Equal(t, target, b.location().Query().Get("acked"))
	status := eval[string](b, `document.querySelector('tr[data-finding-id="`+target+`"]').dataset.status`)
	require.Equal(t, "acknowledged", status)
	shown := eval[string](b, `document.querySelector('tr[data-finding-id="`+target+`"] .note-text').textContent`)
	require.Equal(t, note, shown)
	f, err := store.FindingGet(ctx, target)
	require.NoError(t, err)
	require.Equal(t, models.FindingAcknowledged, f.Status)
	require.Equal(t, note, *f.AckNote)
	require.Equal(t, principal.APIToken, *f.AcknowledgedBy, "the login's token name, not the typed one")
	b.screenshot("05-findings-acknowledged")
	b.requireCleanConsole("on the findings")

	// Requests without the session, or with the session and a forged CSRF
	// token, change nothing.
	c := dashboardtest.NewClient(srv.URL)
	c.Session = session.Value
	ackPath := "/findings/" + other + "/acknowledge"
	page := c.Get(t, "/findings")
	require.Equal(t, http.StatusOK, page.Status, "the browser's session works from Go")
	realCSRF := dashboardtest.CSRF(t, page.Body)
	require.Equal(t, http.StatusForbidden, c.PostForm(t, ackPath, url.Values{"csrf": {"forged"}, "note": {"x"}}).Status)
	require.Equal(t, http.StatusForbidden, c.PostForm(t, ackPath, url.Values{"note": {"x"}}).Status)
	anon := dashboardtest.NewClient(srv.URL)
	require.Equal(t, http.StatusForbidden, anon.PostForm(t, ackPath, url.Values{"csrf": {realCSRF}, "note": {"x"}}).Status)
	f, err = store.FindingGet(ctx, other)
	require.NoError(t, err)
	require.Equal(t, models.FindingOpen, f.Status)
	require.Nil(t, f.AckNote)

	// Payouts: find one by its transaction and open its history.
	b.navigate("payouts", http.StatusOK, chromedp.Click(chromedp.CSS(`nav a[href="/payouts"]`)))
	b.screenshot("06-payouts")
	b.do("search", chromedp.SendKeys(chromedp.CSS(`input[name="transaction"]`), dashboardtest.SearchTransaction))
	b.navigate("search", http.StatusOK, chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	found := eval[[]string](b, `[...document.querySelectorAll("tr[data-payout-id]")].map((r) => r.dataset.payoutId)`)
	require.Equal(t, []string{fx.Search.ID}, found)
	b.screenshot("07-payout-search")
	b.navigate("payout", http.StatusOK, chromedp.Click(chromedp.CSS(`tr[data-payout-id="`+fx.Search.ID+`"] a[href^="/payouts/"]`)))
	require.Equal(t, "/payouts/"+fx.Search.ID, b.location().Path)
	history := eval[[]string](b, `[...document.querySelectorAll("table.history tbody tr")].map((r) => r.className + ": " + r.innerText.replace(/\s+/g, " "))`)
	require.Len(t, history, 3, "%q", history)
	require.True(t, strings.HasPrefix(history[0], "applied: "), history[0])
	require.Contains(t, history[0], "api")
	require.Contains(t, history[1], "webhook")
	require.Contains(t, history[1], "pending → completed")
	require.True(t, strings.HasPrefix(history[2], "not-applied: "), history[2])
	require.Contains(t, history[2], "reconcile")
	require.Contains(t, history[2], "stale")
	b.screenshot("08-payout")
	b.requireCleanConsole("on the payouts")

	// Reconciliation runs and a run.
	b.navigate("runs", http.StatusOK, chromedp.Click(chromedp.CSS(`nav a[href="/runs"]`)))
	runs := eval[int](b, `document.querySelectorAll("tr[data-run-id]").length`)
	require.Equal(t, len(fx.Runs), runs)
	b.screenshot("09-runs")
	last := fx.Runs[len(fx.Runs)-1]
	b.navigate("run", http.StatusOK, chromedp.Click(chromedp.CSS(`a[href="/runs/`+last.ID+`"]`)))
	require.Equal(t, "/runs/"+last.ID, b.location().Path)
	b.screenshot("10-run")
	b.requireCleanConsole("on the runs")

	// At phone width nothing is wider than the screen: tables scroll inside
	// their own box.
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	for _, p := range []struct{ name, path string }{
		{"overview", "/"}, {"findings", "/findings"}, {"payouts", "/payouts"},
		{"payout", "/payouts/" + fx.Search.ID}, {"runs", "/runs"}, {"run", "/runs/" + last.ID},
	} {
		b.open(p.path)
		if p.path == "/" {
			b.do("charts drawn", chromedp.WaitReady(chromedp.CSS(`html[data-charts="ready"]`)))
			require.Equal(t, 3, eval[chartState](b, chartsJS).Instances)
		}
		o := eval[overflow](b, overflowJS)
		require.Equal(t, 390, o.Inner, "%s: viewport", p.name)
		require.LessOrEqual(t, o.Scroll, o.Client, "%s: the page scrolls sideways (%+v)", p.name, o)
		require.LessOrEqual(t, o.Body, o.Client, "%s: the body is wider than the screen (%+v)", p.name, o)
		b.screenshot("phone-" + p.name)
	}
	b.requireCleanConsole("at phone width")

	// Log out: the session ends in this browser.
	b.do("desktop", chromedp.EmulateViewport(1280, 900))
	b.open("/")
	b.navigate("log out", http.StatusOK, chromedp.Click(chromedp.CSS(`form.logout button`)))
	require.Equal(t, "/login", b.location().Path)
	b.open("/findings")
	require.Equal(t, "/login", b.location().Path, "logged out")
	b.screenshot("11-logged-out")
	b.requireCleanConsole("after logging out")
}

// TestBrowserEventLog opens the event log, filters it, opens a parked
// event, replays it with the form, sees the replay recorded, and follows
// the links between the event and the payout it changes once applied.
func TestBrowserEventLog(t *testing.T) {
	exe := findChromium(t)
	s, ev := startSeeded(t, true)
	clock, store, srv := s.clock, s.store, s.srv
	b := startBrowser(t, exe, srv.URL)
	ctx := t.Context()
	parked := fmt.Sprint(ev.Parked.ID)

	b.login("/events")
	rowsJS := `[...document.querySelectorAll("tr[data-event-id]")].map((r) => r.dataset.eventId)`
	require.Len(t, eval[[]string](b, rowsJS), 50, "a page of the event log")
	b.screenshot("20-events")

	// Filter: parked events authenticated by signature.
	b.do("filter",
		chromedp.SetValue(chromedp.CSS(`select[name="state"]`), "parked"),
		chromedp.SetValue(chromedp.CSS(`select[name="auth"]`), "signature"))
	b.navigate("apply filter", http.StatusOK, chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	require.Equal(t, "parked", b.location().Query().Get("state"))
	require.Equal(t, []string{parked}, eval[[]string](b, rowsJS))
	b.screenshot("21-events-parked")
	b.requireCleanConsole("on the event log")

	// The event: masked body, its error, and the Replay form.
	b.navigate("event", http.StatusOK, chromedp.Click(chromedp.CSS(`tr[data-event-id="`+parked+`"] a`)))
	require.Equal(t, "/events/"+parked, b.location().Path)
	bodyText := eval[string](b, `document.getElementById("event-body").textContent`)
	require.Contains(t, bodyText, dashboardtest.EventEmailMasked)
	require.Contains(t, bodyText, `"accountNumber": "[masked]"`)
	require.NotContains(t, bodyText, dashboardtest.EventEmail)
	require.NotContains(t, bodyText, dashboardtest.EventSSN)
	require.Equal(t, `decode: <script>alert("…")</script> & co`, eval[string](b, `document.getElementById("event-error").textContent`),
		"the last error as text, its quoted value dropped")
	require.Equal(t, "parked", eval[string](b, `document.getElementById("event-state").textContent`))
	b.screenshot("22-event-parked")

	// Replay it.
	clock.Advance(time.Minute)
	b.navigate("replay", http.StatusOK, chromedp.Click(chromedp.CSS(`form.replay-form button[type="submit"]`)))
	require.Equal(t, "/events/"+parked, b.location().Path)
	require.NotEmpty(t, b.location().Query().Get("replayed"))
	require.Equal(t, "Replay recorded: applied.", eval[string](b, `document.getElementById("replay-notice").textContent`))
	replays := eval[[]string](b, `[...document.querySelectorAll("tr[data-replay-id]")].map((r) => r.innerText.replace(/\s+/g, " ").trim())`)
	require.Len(t, replays, 1)
	require.Contains(t, replays[0], principal.APIToken)
	require.Contains(t, replays[0], "applied")
	require.Equal(t, "applied", eval[string](b, `document.getElementById("event-state").textContent`), "applied once, by the replay")
	b.screenshot("23-event-replayed")
	rs, err := store.EventReplayList(ctx, ev.Parked.ID)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.Equal(t, principal.APIToken, rs[0].ReplayedBy, "the login's token name")
	require.True(t, rs[0].RequestedAt.Equal(clock.Now().UTC()))

	// Nothing is left for the applier; the event and its payout link both
	// ways.
	require.Zero(t, srv.Drain(t), "the replay applied it")
	b.open("/events/" + parked)
	pid := ev.ParkedPayout.ID
	b.navigate("payout", http.StatusOK, chromedp.Click(chromedp.CSS(`li[data-effect="payout"] a`)))
	require.Equal(t, "/payouts/"+pid, b.location().Path)
	require.Equal(t, "failed", eval[string](b, `document.getElementById("payout-status").textContent`))
	b.screenshot("24-payout-from-event")
	b.navigate("back to the event", http.StatusOK, chromedp.Click(chromedp.CSS(`a.event-link[href="/events/`+parked+`"]`)))
	require.Equal(t, "/events/"+parked, b.location().Path)
	b.requireCleanConsole("on the event pages")

	// At phone width the event pages fit the screen.
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	for _, p := range []string{"/events", "/events/" + parked, "/events/" + fmt.Sprint(ev.Payout.ID)} {
		b.open(p)
		o := eval[overflow](b, overflowJS)
		require.LessOrEqual(t, o.Scroll, o.Client, "%s: the page scrolls sideways (%+v)", p, o)
	}
	b.screenshot("phone-event")
	b.requireCleanConsole("at phone width")
}

// TestBrowserFindings checks the findings where finance acts on them, at a
// 1,400 px window and a 390 px phone: with 200-character values in a
// finding, every Acknowledge and Snooze action stays inside the window and
// the page never scrolls sideways; money is formatted; the Copy button
// hands over the whole value; a snooze hides the finding and, once its date
// has passed on the server's clock, it is back.
func TestBrowserFindings(t *testing.T) {
	exe := findChromium(t)
	s, _ := startSeeded(t, false)
	fx, srv := s.fx, s.srv
	b := startBrowser(t, exe, srv.URL)
	long := fx.Long
	lastRun := fx.Runs[len(fx.Runs)-1]
	b.login("/findings")

	pages := []struct{ name, path string }{
		{"findings", "/findings"}, {"findings-open", "/findings?status=open"},
		{"run", "/runs/" + lastRun.ID}, {"payout", "/payouts/" + *long.PayoutID},
	}
	for _, size := range []struct {
		name          string
		width, height int64
	}{{"desktop", 1400, 900}, {"phone", 390, 844}} {
		b.viewport(size.width, size.height)
		for _, p := range pages {
			where := size.name + " " + p.name
			b.open(p.path)
			o := eval[overflow](b, overflowJS)
			require.Equal(t, int(size.width), o.Inner, "%s: viewport", where)
			require.LessOrEqual(t, o.Scroll, o.Client, "%s: the page scrolls sideways (%+v)", where, o)
			open := eval[[]string](b, `[...document.querySelectorAll('tr[data-status="open"]')].map((r) => r.dataset.findingId)`)
			require.Contains(t, open, long.ID, where)
			for _, id := range open {
				row := `tr[data-finding-id="` + id + `"] `
				b.requireInViewport(row+"details.ack-form summary", where+": Acknowledge of "+id)
				b.requireInViewport(row+"details.snooze-form summary", where+": Snooze of "+id)
			}
			// The table itself fits its box: nothing to scroll to.
			wrap := eval[overflow](b, `(() => { const w = document.querySelector(".table-wrap");
  return {scroll: w.scrollWidth, client: w.clientWidth, body: 0, inner: window.innerWidth}; })()`)
			require.LessOrEqual(t, wrap.Scroll, wrap.Client, "%s: the findings table is wider than its box (%+v)", where, wrap)

			text := b.pageText()
			require.Contains(t, text, "1,234,567.89 USD", where)
			require.NotContains(t, text, strconv.FormatInt(dashboardtest.LongCents, 10), where)
			require.NotContains(t, text, dashboardtest.LongValue, "%s: the whole value is on hover and copy only", where)
			for _, raw := range []string{`"cents"`, "cents", `{"`} {
				require.NotContains(t, text, raw, where)
			}
			b.screenshot("30-" + size.name + "-" + p.name)
		}
		b.requireCleanConsole("on the findings at " + size.name + " width")
	}

	// Copy hands over the whole transaction: to the clipboard, or, where
	// the browser refuses it, selected in a field to copy by hand.
	b.viewport(1400, 900)
	b.open("/findings")
	row := `tr[data-finding-id="` + long.ID + `"] `
	b.do("copy", chromedp.Click(chromedp.CSS(row+`td.details button.copy`)))
	copied, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`(() => { const r = document.querySelector('tr[data-finding-id="`+long.ID+`"]');
  const f = r.querySelector("input.copy-field");
  return (f && f.value.length === 200) || [...r.querySelectorAll("button.copy")].some((x) => x.textContent === "Copied"); })()`,
		chromedp.WithPollingTimeout(5*time.Second)))
	require.NoError(t, err, "copy")
	require.True(t, copied, "the whole value copied or offered to copy")
	b.requireCleanConsole("after copying")

	// Snooze until tomorrow (UTC, the server's clock).
	tomorrow := s.clock.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	note := "Coinflow support: the bank settles it tomorrow"
	b.open("/findings?status=open")
	b.do("snooze form",
		chromedp.Click(chromedp.CSS(row+"details.snooze-form summary")),
		chromedp.WaitVisible(chromedp.CSS(row+`details.snooze-form textarea[name="note"]`)),
		chromedp.SetValue(chromedp.CSS(row+`input[name="until"]`), tomorrow.Format(time.DateOnly)),
		chromedp.SendKeys(chromedp.CSS(row+`details.snooze-form textarea[name="note"]`), note))
	b.screenshot("31-snooze-form")
	b.navigate("snooze", http.StatusOK, chromedp.Click(chromedp.CSS(row+`details.snooze-form button[type="submit"]`)))
	require.Equal(t, long.ID, b.location().Query().Get("snoozed"))
	require.Equal(t, "open", b.location().Query().Get("status"))
	shownIDs := `[...document.querySelectorAll("tr[data-finding-id]")].map((r) => r.dataset.findingId)`
	require.NotContains(t, eval[[]string](b, shownIDs), long.ID, "hidden from the open list")
	require.Contains(t, eval[string](b, `document.getElementById("snoozed-notice").textContent`), "snoozed until")
	b.screenshot("32-snoozed")
	b.open("/findings?status=snoozed")
	require.Equal(t, []string{long.ID}, eval[[]string](b, shownIDs))
	require.Contains(t, eval[string](b, `document.querySelector('`+row+`.ack').innerText`), note)
	f, err := s.store.FindingGet(t.Context(), long.ID)
	require.NoError(t, err)
	require.True(t, f.SnoozedUntil.Equal(tomorrow), "%v", f.SnoozedUntil)

	// The date passes on the server's clock: the finding is back, open.
	// The session (12 hours) has ended by then: log in again.
	s.clock.Set(tomorrow.Add(time.Minute))
	b.login("/findings")
	b.open("/findings?status=open")
	require.Contains(t, eval[[]string](b, shownIDs), long.ID, "back once the snooze ended")
	require.Empty(t, eval[[]string](b, `[...document.querySelectorAll("tr[data-snoozed]")].map((r) => r.id)`))
	b.screenshot("33-back-after-the-date")
	b.requireCleanConsole("after the snooze")
}
