package e2e

import (
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

// startSeededReconciling is startSeeded's payoutd with a reconciler
// against the emulator, so that "reconcile now" can start a run.
func startSeededReconciling(t *testing.T) (seeded, *dashboardtest.Events) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	s := seeded{clock: dbtest.NewClock(now)}
	s.store = dbtest.SQLite(t, dbtest.Options{NowFunc: s.clock.Now})
	s.fx = dashboardtest.Seed(t, s.store, s.clock, now)
	ev := dashboardtest.SeedEvents(t, s.store, s.clock, s.fx)
	const apiKey = "browser-pages-api-key"
	emu := coinflowtest.NewServer(coinflowtest.Options{APIKey: apiKey, Start: s.clock.Now(), SignNowFunc: s.clock.Now})
	t.Cleanup(emu.Close)
	cf, err := coinflow.New(coinflow.Config{BaseURL: emu.URL, APIKey: apiKey, Timeout: 5 * time.Second, MaxAttempts: 1})
	require.NoError(t, err)
	logger, _ := logtest.NewNullLogger()
	rec, err := reconcile.New(s.store, cf, logrus.NewEntry(logger), metrics.New().NewReconcile(), reconcile.Config{})
	require.NoError(t, err)
	s.srv = testserver.Start(t, s.store, testserver.Options{Clock: s.clock, Reconciler: rec})
	return s, ev
}

// rowIDs are the data-<attr> values of the rows the page shows, in order.
func rowIDs(b *browser, attr string) []string {
	b.t.Helper()
	return eval[[]string](b, `[...document.querySelectorAll("tr[data-`+attr+`]")].map((r) => r.getAttribute("data-`+attr+`"))`)
}

// filter sets the list form's fields (select or input, by name), submits
// it, and returns the rows shown, by attr.
func filter(b *browser, attr string, fields map[string]string) []string {
	b.t.Helper()
	var set []chromedp.Action[chromedp.Void]
	for name, v := range fields {
		set = append(set, chromedp.SetValue(chromedp.CSS(`form.filters [name="`+name+`"]`), v))
	}
	b.do("set the filters", set...)
	b.navigate("apply the filters", http.StatusOK, chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	q := b.location().Query()
	for name, v := range fields {
		require.Equal(b.t, v, q.Get(name), "the query keeps %s", name)
	}
	return rowIDs(b, attr)
}

func TestBrowserPages(t *testing.T) {
	exe := findChromium(t)
	s, ev := startSeededReconciling(t)
	fx, store := s.fx, s.store
	b := startBrowser(t, exe, s.srv.URL)

	b.open("/reports")
	require.Equal(t, "/login", b.location().Path)
	b.navigate("log in", http.StatusOK,
		chromedp.SendKeys(chromedp.CSS(`input[name="token"]`), testserver.APIToken),
		chromedp.Submit(chromedp.CSS(`form[action="/login"]`)))
	require.Equal(t, "/reports", b.location().Path)

	payouts := fx.NewestPayouts
	all := payouts(func(*models.Payout) bool { return true })
	sameDay := payouts(func(p *models.Payout) bool {
		return models.Deref(p.RequestedSpeed) == "same_day" || models.Deref(p.EffectiveSpeed) == "same_day"
	})
	stuck := payouts(func(p *models.Payout) bool { return p.ID == fx.Payouts[1].ID || p.ID == fx.Payouts[2].ID })
	day := fx.Search.CreatedAt.UTC().Truncate(24 * time.Hour)
	onDay := payouts(func(p *models.Payout) bool {
		return !p.CreatedAt.Before(day) && p.CreatedAt.Before(day.AddDate(0, 0, 1))
	})
	for _, want := range [][]string{sameDay, stuck, onDay} {
		require.NotEmpty(t, want)
		require.NotEqual(t, all, want)
	}
	parked := []string{strconv.FormatInt(ev.Parked.ID, 10)}

	for _, w := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1400, 900, false}, {"phone", 390, 844, true}} {
		if w.mobile {
			b.do(w.name, chromedp.EmulateViewport(w.width, w.height, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
		} else {
			b.do(w.name, chromedp.EmulateViewport(w.width, w.height))
		}

		// Payouts: each filter changes the rows to exactly those it names.
		b.open("/payouts")
		require.Equal(t, all, rowIDs(b, "payout-id"))
		require.Equal(t, sameDay, filter(b, "payout-id", map[string]string{"speed": "same_day"}), w.name)
		b.open("/payouts")
		require.Equal(t, stuck, filter(b, "payout-id", map[string]string{"stuck": "true"}), w.name)
		b.open("/payouts")
		d := day.Format(time.DateOnly)
		require.Equal(t, onDay, filter(b, "payout-id", map[string]string{"from": d, "to": d}), w.name)
		o := eval[overflow](b, overflowJS)
		require.LessOrEqual(t, o.Scroll, o.Client, "%s: the payouts page scrolls sideways (%+v)", w.name, o)
		b.screenshot("pages-" + w.name + "-payouts-by-day")

		// Withdrawers and the event log.
		b.open("/withdrawers")
		require.Greater(t, len(rowIDs(b, "withdrawer-id")), 1)
		require.Equal(t, []string{dashboardtest.PendingUser}, filter(b, "withdrawer-id", map[string]string{"status": "pending"}), w.name)
		b.open("/withdrawers")
		require.Equal(t, []string{dashboardtest.BlockedUser}, filter(b, "withdrawer-id", map[string]string{"blocked": "yes"}), w.name)
		b.open("/events")
		require.Len(t, rowIDs(b, "event-id"), 50)
		require.Equal(t, parked, filter(b, "event-id", map[string]string{"state": "parked"}), w.name)
		o = eval[overflow](b, overflowJS)
		require.LessOrEqual(t, o.Scroll, o.Client, "%s: the events page scrolls sideways (%+v)", w.name, o)

		// The Reports page, from the nav.
		b.open("/")
		b.navigate("reports", http.StatusOK, chromedp.Click(chromedp.CSS(`nav a[href="/reports"]`)))
		require.Equal(t, "/reports", b.location().Path)
		require.NotEmpty(t, eval[string](b, `document.querySelector('tr[data-currency="USD"]').innerText`))
		o = eval[overflow](b, overflowJS)
		require.LessOrEqual(t, o.Scroll, o.Client, "%s: the reports page scrolls sideways (%+v)", w.name, o)
		b.screenshot("pages-" + w.name + "-reports")
		b.requireCleanConsole("on the list pages at " + w.name)
	}
	b.do("desktop", chromedp.EmulateViewport(1400, 900))

	// A CSV downloads from the Reports page into a directory of ours.
	dir := t.TempDir()
	_, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	})
	require.NoError(t, err)
	b.open("/reports")
	b.do("download", chromedp.Click(chromedp.CSS(`a[data-report="all"]`)))
	var file string
	require.Eventually(t, func() bool {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
		if len(matches) == 1 {
			file = matches[0]
		}
		return file != ""
	}, 15*time.Second, 50*time.Millisecond, "the CSV lands in %s", dir)
	first := time.Date(s.clock.Now().Year(), s.clock.Now().Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	require.Equal(t, "payoutd-all-"+first+"-through-"+s.clock.Now().UTC().Format(time.DateOnly)+".csv", filepath.Base(file))
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.Greater(t, len(rows), 3)
	require.Equal(t, "section", rows[0][0], "a header row")
	require.Equal(t, "range_from", rows[1][0])
	b.requireCleanConsole("after the download")

	// "Reconcile now" starts a run and opens its page.
	b.open("/runs")
	before := len(rowIDs(b, "run-id"))
	b.navigate("reconcile now", http.StatusOK, chromedp.Click(chromedp.CSS(`#reconcile-now`)))
	path := b.location().Path
	require.True(t, strings.HasPrefix(path, "/runs/"), path)
	id := strings.TrimPrefix(path, "/runs/")
	run, err := store.RunGet(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, "dashboard", run.Trigger)
	require.Eventually(t, func() bool {
		r, err := store.RunGet(t.Context(), id)
		return err == nil && r.Outcome != models.RunRunning
	}, 30*time.Second, 50*time.Millisecond)
	b.screenshot("pages-reconcile-now")
	b.open("/runs")
	require.Len(t, rowIDs(b, "run-id"), before+1)
	require.Equal(t, id, rowIDs(b, "run-id")[0], "the new run is the newest")
	b.requireCleanConsole("after reconcile now")
}
