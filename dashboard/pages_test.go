package dashboard_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

func TestDashboardFindingsFilters(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		all := e.Fx.Findings
		want := func(keep func(f *models.Finding) bool) []string {
			var ids []string
			for _, f := range all {
				if keep(f) {
					ids = append(ids, f.ID)
				}
			}
			return ids
		}
		cases := []struct {
			query string
			keep  func(f *models.Finding) bool
		}{
			{"", func(*models.Finding) bool { return true }},
			{"status=open", func(f *models.Finding) bool { return f.Status == models.FindingOpen }},
			{"status=acknowledged", func(f *models.Finding) bool { return f.Status == models.FindingAcknowledged }},
			{"status=resolved", func(f *models.Finding) bool { return f.Status == models.FindingResolved }},
			{"kind=stuck_payout", func(f *models.Finding) bool { return f.Kind == models.KindStuckPayout }},
			{"severity=error", func(f *models.Finding) bool { return f.Severity == models.SeverityError }},
			{"severity=warning&kind=stuck_payout", func(f *models.Finding) bool {
				return f.Severity == models.SeverityWarning && f.Kind == models.KindStuckPayout
			}},
			{"status=open&severity=error", func(f *models.Finding) bool {
				return f.Status == models.FindingOpen && f.Severity == models.SeverityError
			}},
			{"payout_id=" + e.Fx.Search.ID, func(f *models.Finding) bool { return f.PayoutID != nil && *f.PayoutID == e.Fx.Search.ID }},
			{"kind=wallet_drift", func(*models.Finding) bool { return false }},
		}
		for _, tc := range cases {
			ids := want(tc.keep)
			body := getList(t, c, "/findings", tc.query, findingRow, ids, "No findings.")
			// Only open findings offer the acknowledge form.
			var open int
			for _, id := range ids {
				if i := slices.IndexFunc(all, func(f *models.Finding) bool { return f.ID == id }); all[i].Status == models.FindingOpen {
					open++
				}
			}
			require.Equal(t, open, strings.Count(body, `/acknowledge"`), tc.query)
		}
		require.Len(t, e.Fx.Findings, 10)

		for _, bad := range []string{"status=gone", "kind=bogus", "severity=fatal"} {
			resp := c.Get(t, "/findings?"+bad)
			require.Equal(t, http.StatusBadRequest, resp.Status, bad)
			require.NotContains(t, resp.Body, "data-finding-id")
		}
		require.Equal(t, http.StatusBadRequest, c.Get(t, "/findings?cursor=not-a-cursor").Status)
	})
}

// TestDashboardPaging follows the "older" links of the findings, payouts
// and withdrawers lists through more rows than a page holds, keeping the
// filters.
func TestDashboardPaging(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		ctx := t.Context()
		var want, pending []string
		for i := range 57 {
			user, status := fmt.Sprintf("w-%02d", i), models.VerificationPending
			if i%10 == 0 {
				status = models.VerificationApproved
			} else {
				pending = append(pending, user)
			}
			dashboardtest.ApplyVerification(t, store, decide.Verification{
				Source: models.SourceAPI, UserID: user, Wallet: "w", Blockchain: "user", EmailMasked: "a***@example.com",
				Status: status, At: store.Now(),
			})
			sev := models.SeverityWarning
			if i%3 == 0 {
				sev = models.SeverityInfo
			}
			f, _, err := store.FindingRaise(ctx, models.Finding{
				Kind: models.KindStuckPayout, Subject: "p-" + strconv.Itoa(i), Severity: sev, Details: models.Details{},
			})
			require.NoError(t, err)
			if sev == models.SeverityWarning {
				want = append(want, f.ID)
			}
			require.NoError(t, store.PayoutCreate(ctx, &models.Payout{
				UserID: "u-page", Amount: models.Money{Cents: 100, Currency: "USD"}, Status: models.StatusPending,
				Source: models.OriginAPI,
			}, models.SourceAPI, nil))
		}
		slices.Reverse(want) // newest first
		slices.Reverse(pending)
		u, _ := serve(t, store, dbtest.NewClock(t0), dashboard.Deps{Tokens: tokens, NowFunc: store.Now})
		c := dashboardtest.Login(t, u, token)
		next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
		// pageThrough gets path and each page its "older" link leads to, at
		// most three in all, and returns the ids row matches on them, in
		// order, and the links it followed.
		pageThrough := func(path string, row *regexp.Regexp) (ids, links []string) {
			for pages := 0; path != ""; pages++ {
				require.Less(t, pages, 3)
				body := c.Get(t, path).Body
				ids = append(ids, matches(row, body)...)
				path = ""
				if m := next.FindStringSubmatch(body); m != nil {
					path = html.UnescapeString(m[1])
					links = append(links, path)
				}
			}
			return ids, links
		}

		got, links := pageThrough("/findings?severity=warning", findingRow)
		require.Equal(t, want, got)
		for _, l := range links {
			require.Contains(t, l, "severity=warning", "the filter stays")
		}

		payouts, links := pageThrough("/payouts?user_id=u-page", payoutRow)
		require.NotEmpty(t, links, "57 payouts take two pages")
		for _, l := range links {
			require.Contains(t, l, "user_id=u-page", "the filter stays")
		}
		require.Len(t, payouts, 57)
		require.Len(t, slices.Compact(slices.Sorted(slices.Values(payouts))), 57, "no payout twice")

		withdrawers, links := pageThrough("/withdrawers?status=pending", withdrawerRow)
		require.Equal(t, pending, withdrawers, "51 pending withdrawers take two pages")
		require.Len(t, links, 1)
		require.Contains(t, links[0], "status=pending", "the filter stays")

		// A withdrawer's page shows the newest of its payouts and links to
		// them all.
		dashboardtest.ApplyVerification(t, store, decide.Verification{
			Source: models.SourceAPI, UserID: "u-page", Wallet: "w", Blockchain: "user", EmailMasked: "a***@example.com",
			Status: models.VerificationApproved, At: store.Now(),
		})
		body := c.Get(t, "/withdrawers/u-page").Body
		require.Equal(t, payouts[:50], matches(payoutRow, body))
		require.Contains(t, body, `The newest 50 payouts; <a href="/payouts?user_id=u-page" id="all-payouts">all payouts of this user</a>`)
	})
}

func TestDashboardPayoutSearch(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		s := e.Fx.Search

		newestFirst := func(keep func(p *models.Payout) bool) []string { return newestPayouts(e.Fx, keep) }
		for _, q := range []string{
			"user_id=" + dashboardtest.SearchUser,
			"transaction=" + dashboardtest.SearchTransaction,
			"idempotency_key=" + dashboardtest.SearchKey,
			"user_id=" + dashboardtest.SearchUser + "&status=completed",
		} {
			resp := c.Get(t, "/payouts?"+q)
			require.Equal(t, http.StatusOK, resp.Status, q)
			require.Equal(t, []string{s.ID}, matches(payoutRow, resp.Body), q)
		}
		resp := c.Get(t, "/payouts?user_id="+dashboardtest.SearchUser+"&status=failed")
		require.Empty(t, matches(payoutRow, resp.Body))
		require.Contains(t, resp.Body, "No payouts match.")

		for _, st := range []models.PayoutStatus{models.StatusFailed, models.StatusCompleted, models.StatusPending} {
			resp := c.Get(t, "/payouts?status="+string(st))
			want := newestFirst(func(p *models.Payout) bool { return p.Status == st })
			require.NotEmpty(t, want)
			require.Equal(t, want, matches(payoutRow, resp.Body), st)
		}
		resp = c.Get(t, "/payouts?user_id=user-1")
		require.Equal(t, newestFirst(func(p *models.Payout) bool { return p.UserID == "user-1" }), matches(payoutRow, resp.Body))
		resp = c.Get(t, "/payouts")
		require.Equal(t, newestFirst(func(*models.Payout) bool { return true }), matches(payoutRow, resp.Body))
		require.NotContains(t, resp.Body, "acct-secret", "account tokens are never shown")
		require.Equal(t, http.StatusBadRequest, c.Get(t, "/payouts?status=lost").Status)

		resp = c.Get(t, "/payouts?id="+s.ID)
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.Equal(t, "/payouts/"+s.ID, resp.Header.Get("Location"))

		resp = c.Get(t, "/payouts/"+s.ID)
		require.Equal(t, http.StatusOK, resp.Status)
		body := resp.Body
		require.Contains(t, body, s.ID)
		require.Contains(t, body, "98,765.43 USD")
		require.Contains(t, body, dashboardtest.SearchKey)
		require.Contains(t, body, dashboardtest.SearchTransaction)
		require.NotContains(t, body, "acct-secret")
		hist := regexp.MustCompile(`(?s)<table class="history stack">.*?</table>`).FindString(body)
		require.NotEmpty(t, hist)
		rows := regexp.MustCompile(`(?s)<tr class="(applied|not-applied)">(.*?)</tr>`).FindAllStringSubmatch(hist, -1)
		require.Len(t, rows, 3, "created, completed by webhook, late pending from reconcile")
		require.Equal(t, "applied", rows[0][1])
		require.Contains(t, rows[0][2], "src-api")
		require.Contains(t, rows[1][2], "src-webhook")
		require.Contains(t, rows[1][2], "pending → completed")
		require.Equal(t, "not-applied", rows[2][1])
		require.Contains(t, rows[2][2], "src-reconcile")
		require.Contains(t, rows[2][2], `<span class="badge stale">stale</span>`)
		require.Equal(t, []string{e.Fx.Open.ID}, matches(findingRow, body), "the payout's findings")

		for _, id := range []string{models.NewID(), "no-such-payout"} {
			resp = c.Get(t, "/payouts/"+id)
			require.Equal(t, http.StatusNotFound, resp.Status)
			require.Contains(t, resp.Body, "There is no payout with that id.")
		}
	})
}

type chartsJSON struct {
	Currency string `json:"currency"`
	Volume   struct {
		Labels []string `json:"labels"`
		Series []struct {
			Status string  `json:"status"`
			Cents  []int64 `json:"cents"`
		} `json:"series"`
	} `json:"volume"`
	Findings struct {
		Labels []string `json:"labels"`
		Counts []int64  `json:"counts"`
		Series []struct {
			Severity string  `json:"severity"`
			Counts   []int64 `json:"counts"`
		} `json:"series"`
	} `json:"findings"`
	Wallet struct {
		Labels []string `json:"labels"`
		Cents  []int64  `json:"cents"`
	} `json:"wallet"`
}

func TestDashboardOverview(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		resp := c.Get(t, "/")
		require.Equal(t, http.StatusOK, resp.Status)
		body := resp.Body
		for _, id := range []string{"chart-volume", "chart-findings", "chart-wallet"} {
			require.Contains(t, body, `<canvas id="`+id+`"`)
		}
		require.Regexp(t, `<script src="/assets/chart\.umd\.js\?v=[0-9a-f]{16}" defer></script>`, body)
		require.Regexp(t, `<script src="/assets/app\.js\?v=[0-9a-f]{16}" defer></script>`, body)

		m := chartData.FindStringSubmatch(body)
		require.NotNil(t, m, "chart data block")
		var got chartsJSON
		require.NoError(t, json.Unmarshal([]byte(m[1]), &got))
		require.Equal(t, "USD", got.Currency)

		// Volume: 30 UTC days ending today, USD cents by day and status.
		require.Len(t, got.Volume.Labels, 30)
		require.Equal(t, t0.Format("Jan 2"), got.Volume.Labels[29])
		since := t0.Truncate(24*time.Hour).AddDate(0, 0, -29)
		want := map[string][]int64{}
		var count, eur int
		var completed int64
		for _, p := range e.Fx.Payouts {
			count++
			if p.Amount.Currency != "USD" {
				eur++
				continue
			}
			if want[string(p.Status)] == nil {
				want[string(p.Status)] = make([]int64, 30)
			}
			want[string(p.Status)][int(p.CreatedAt.Sub(since)/(24*time.Hour))] += p.Amount.Cents
			if p.Status == models.StatusCompleted {
				completed += p.Amount.Cents
			}
		}
		require.Equal(t, 1, eur)
		gotVolume := map[string][]int64{}
		for _, s := range got.Volume.Series {
			require.Len(t, s.Cents, 30)
			if slices.ContainsFunc(s.Cents, func(n int64) bool { return n != 0 }) {
				gotVolume[s.Status] = s.Cents
			}
		}
		require.Equal(t, want, gotVolume)
		require.Contains(t, body, `<p class="big" id="stat-payouts">`+strconv.Itoa(count)+`</p>`)
		require.Contains(t, body, `id="stat-completed">`+models.Money{Cents: completed, Currency: "USD"}.String()+`<`)
		require.Contains(t, body, "Payouts in other currencies: 1.")

		// Open findings by kind, most first: the open list's findings
		// (acknowledged and snoozed ones are counted apart).
		openByKind := map[string]int64{}
		for _, f := range e.Fx.Findings {
			if f.Status == models.FindingOpen {
				openByKind[string(f.Kind)]++
			}
		}
		gotKinds := map[string]int64{}
		for i, k := range got.Findings.Labels {
			gotKinds[k] = got.Findings.Counts[i]
		}
		require.Equal(t, openByKind, gotKinds)
		require.Equal(t, "stuck_payout", got.Findings.Labels[0])
		require.True(t, slices.IsSortedFunc(got.Findings.Counts, func(a, b int64) int { return int(b - a) }))

		// Wallet: every snapshot of the window (fewer than the thinning limit).
		var balances []int64
		for _, s := range e.Fx.Snapshots {
			balances = append(balances, s.BalanceCents)
		}
		require.Equal(t, balances, got.Wallet.Cents)
		require.Len(t, got.Wallet.Labels, len(balances))
		last := e.Fx.Snapshots[len(e.Fx.Snapshots)-1]
		require.Contains(t, body, `id="stat-wallet">`+models.Money{Cents: last.BalanceCents, Currency: "USD"}.String()+`<`)
		require.Contains(t, body, `href="/runs/`+e.Fx.Runs[len(e.Fx.Runs)-1].ID+`"`)
	})
}

func TestDashboardOverviewEmpty(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		u, _ := serve(t, store, dbtest.NewClock(t0), dashboard.Deps{Tokens: tokens})
		resp := dashboardtest.Login(t, u, token).Get(t, "/")
		require.Equal(t, http.StatusOK, resp.Status)
		require.Contains(t, resp.Body, "No payouts in the window.")
		require.Contains(t, resp.Body, "No open findings.")
		require.Contains(t, resp.Body, "No wallet balance seen in the window.")
		require.NotContains(t, resp.Body, "<canvas")
		require.NotNil(t, chartData.FindStringSubmatch(resp.Body))
	})
}

func TestDashboardRuns(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		resp := c.Get(t, "/runs")
		require.Equal(t, http.StatusOK, resp.Status)
		var want []string
		for i := len(e.Fx.Runs) - 1; i >= 0 && len(want) < 50; i-- {
			want = append(want, e.Fx.Runs[i].ID)
		}
		require.Equal(t, want, matches(runRow, resp.Body))

		var partial *models.ReconcileRun
		for _, r := range e.Fx.Runs {
			if r.Outcome == models.RunPartial {
				partial = r
			}
		}
		require.NotNil(t, partial)
		resp = c.Get(t, "/runs/"+partial.ID)
		require.Equal(t, http.StatusOK, resp.Status)
		require.Contains(t, resp.Body, `<span class="badge outcome-partial">partial</span>`)
		require.Contains(t, resp.Body, "coinflow answered 503")

		lastRun := e.Fx.Runs[len(e.Fx.Runs)-1]
		resp = c.Get(t, "/runs/"+lastRun.ID)
		require.Equal(t, http.StatusOK, resp.Status)
		var ofRun []string
		for _, f := range e.Fx.Findings {
			ofRun = append(ofRun, f.ID)
		}
		require.ElementsMatch(t, ofRun, matches(findingRow, resp.Body), "every seeded finding names the last run")
		require.Contains(t, resp.Body, "withdraws seen")

		require.Equal(t, http.StatusNotFound, c.Get(t, "/runs/"+models.NewID()).Status)
	})
}

// TestDashboardPagesAreStrict checks what every page must have: the
// security headers, no inline script or style, no secrets.
func TestDashboardPagesAreStrict(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		pages := map[string]dashboardtest.Response{
			"/login (anonymous)": dashboardtest.NewClient(e.URL).Get(t, "/login"),
			"/ (forbidden post)": dashboardtest.NewClient(e.URL).PostForm(t, "/findings/x/acknowledge", url.Values{}),
		}
		for _, p := range []string{
			"/", "/findings", "/findings?status=open", "/payouts", "/payouts/" + e.Fx.Search.ID,
			"/runs", "/runs/" + e.Fx.Runs[0].ID, "/payouts/missing", "/withdrawers", "/withdrawers?status=pending",
			"/withdrawers/" + dashboardtest.PendingUser, "/withdrawers/" + dashboardtest.SearchUser, "/withdrawers/missing",
		} {
			pages[p] = c.Get(t, p)
		}
		inlineHandler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
		for p, resp := range pages {
			require.Contains(t, []int{200, 403, 404}, resp.Status, p)
			h := resp.Header
			require.Equal(t, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "+
				"form-action 'self'; frame-ancestors 'none'; base-uri 'none'", h.Get("Content-Security-Policy"), p)
			require.Equal(t, "DENY", h.Get("X-Frame-Options"), p)
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), p)
			require.Equal(t, "no-store", h.Get("Cache-Control"), p)
			require.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"), p)
			for _, tag := range scriptTag.FindAllString(resp.Body, -1) {
				ok := strings.Contains(tag, ` src="/assets/`) || tag == `<script type="application/json" id="chart-data">`
				require.True(t, ok, "%s: inline script %s", p, tag)
			}
			require.NotContains(t, resp.Body, " style=", p)
			require.NotContains(t, resp.Body, "<style", p)
			require.False(t, inlineHandler.MatchString(resp.Body), "%s: inline event handler", p)
			require.NotContains(t, resp.Body, token, p)
			require.NotContains(t, resp.Body, "acct-secret", p)
			require.NotContains(t, resp.Body, "tok-secret", p)
		}
	})
}

func TestDashboardAssets(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	u, _ := serve(t, store, dbtest.NewClock(t0), dashboard.Deps{Tokens: tokens})
	anon := dashboardtest.NewClient(u)

	page := anon.Get(t, "/login")
	css := regexp.MustCompile(`href="(/assets/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page.Body)
	require.NotNil(t, css)
	resp := anon.Get(t, css[1])
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, "text/css; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	require.NotEmpty(t, resp.Header.Get("ETag"))
	require.Equal(t, http.StatusNotModified,
		anon.Do(t, http.MethodGet, css[1], nil, http.Header{"If-None-Match": {resp.Header.Get("ETag")}}).Status)

	resp = anon.Get(t, "/assets/chart.umd.js")
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, "text/javascript; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"), "an unversioned link revalidates")
	require.True(t, strings.HasPrefix(resp.Body, "/*!\n * Chart.js v4.4.9\n"), "the vendored Chart.js")
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))

	for _, p := range []string{"/assets/README.md", "/assets/chart.js.LICENSE.md", "/assets/../dashboard.go", "/assets/nope.js"} {
		require.Equal(t, http.StatusNotFound, anon.Get(t, p).Status, p)
	}

	// assets/README.md names the vendored version and its checksum.
	vendored, err := os.ReadFile("assets/chart.umd.js")
	require.NoError(t, err)
	require.Equal(t, string(vendored), resp.Body)
	sum := sha256.Sum256(vendored)
	readme, err := os.ReadFile("assets/README.md")
	require.NoError(t, err)
	require.Contains(t, string(readme), "Chart.js 4.4.9")
	require.Contains(t, string(readme), hex.EncodeToString(sum[:]))
	license, err := os.ReadFile("assets/chart.js.LICENSE.md")
	require.NoError(t, err)
	require.Contains(t, string(license), "The MIT License")
}

// TestDashboardWiredIntoRouter checks the dashboard is part of payoutd's
// router next to the API.
func TestDashboardWiredIntoRouter(t *testing.T) {
	t.Parallel()
	srv := testserver.Start(t, dbtest.SQLite(t, dbtest.Options{}), testserver.Options{})
	anon := dashboardtest.NewClient(srv.URL)
	resp := anon.Get(t, "/")
	require.Equal(t, http.StatusSeeOther, resp.Status)
	require.Equal(t, "/login?next=%2F", resp.Header.Get("Location"))
	c := dashboardtest.Login(t, srv.URL, testserver.APIToken)
	require.Equal(t, http.StatusOK, c.Get(t, "/").Status)
	require.Equal(t, http.StatusOK, srv.API(t, http.MethodGet, "/api/v1/findings", nil, nil))
	// The session cookie is no API credential.
	require.Equal(t, http.StatusUnauthorized, c.Get(t, "/api/v1/findings").Status)
}
