package dashboard_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/models"
)

// README's "Runbook" section holds the runbook the dashboard shows, word
// for word, every kind with its meaning and what to do.
func TestRunbookInREADME(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	require.Contains(t, readme, "\n## Runbook\n")
	require.Contains(t, readme, dashboard.RunbookMarkdown(), "README's runbook is dashboard.RunbookMarkdown(): copy it over")
	entries := dashboard.Runbook()
	require.Len(t, entries, len(models.FindingKinds()))
	for _, e := range entries {
		require.NotEmpty(t, e.Meaning, e.Kind)
		require.NotEmpty(t, e.Action, e.Kind)
		require.Contains(t, readme, e.Meaning, e.Kind)
		require.Contains(t, readme, e.Action, e.Kind)
	}
}

func TestDashboardRunbookPage(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		resp := c.Get(t, "/runbook")
		require.Equal(t, http.StatusOK, resp.Status)
		for _, entry := range dashboard.Runbook() {
			require.Contains(t, resp.Body, `<section class="runbook-entry" id="`+string(entry.Kind)+`">`)
			require.Contains(t, resp.Body, html.EscapeString(entry.Meaning))
			require.Contains(t, resp.Body, html.EscapeString(entry.Action))
		}
		require.Equal(t, http.StatusSeeOther, dashboardtest.NewClient(e.URL).Get(t, "/runbook").Status, "behind the login")
	})
}

// rawMoney is money as cents or JSON, which no page shows.
var rawMoney = regexp.MustCompile(`"cents"|&#34;cents&#34;|\bcents\b|_cents`)

// Every page that shows findings shows them in finance words: what the kind
// means and what to do, money formatted, durations in words, codes
// translated, long values shortened with the whole value at hand.
func TestDashboardFindingsInFinanceWords(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		long := e.Fx.Long
		lastRun := e.Fx.Runs[len(e.Fx.Runs)-1]
		for _, path := range []string{"/findings", "/findings?status=open", "/runs/" + lastRun.ID, "/payouts/" + *long.PayoutID} {
			resp := c.Get(t, path)
			require.Equal(t, http.StatusOK, resp.Status, path)
			body := resp.Body
			row := findingRowHTML(t, body, long.ID)
			require.Contains(t, row, html.EscapeString(dashboard.Runbook()[1].Meaning), path)
			require.Contains(t, row, `href="/runbook#missing_locally"`, path)
			require.Contains(t, row, "1,234,567.89 USD", path)
			require.Contains(t, row, `title="`+dashboardtest.LongValue+`"`, path)
			require.Contains(t, row, `data-copy="`+dashboardtest.LongValue+`"`, path)
			require.Contains(t, row, `/acknowledge"`, path)
			require.Contains(t, row, `/snooze"`, path)
			// The whole value only in attributes, never as the cell's text.
			require.NotContains(t, row, ">"+dashboardtest.LongValue, path)
			require.NotContains(t, row, `name="by"`, "the acknowledger's name comes from the login")

			require.NotRegexp(t, rawMoney, body, path)
			require.NotContains(t, body, strconv.FormatInt(dashboardtest.LongCents, 10), path)
			for _, internal := range []string{"overdue seconds", "inbox event id", "terminal_status_changed", "terminal status changed", "window:"} {
				require.NotContains(t, body, internal, path)
			}
		}
		body := c.Get(t, "/findings").Body
		require.Contains(t, body, "2 minutes 57 seconds")
		require.Contains(t, body, "Coinflow changed a payout it had finished")
		require.Contains(t, body, `<a href="/events/41">message 41</a>`)
		for _, entry := range dashboard.Runbook() {
			for _, f := range e.Fx.Findings {
				if f.Kind == entry.Kind {
					require.Contains(t, body, html.EscapeString(entry.Action), entry.Kind)
				}
			}
		}

		// Filtered by kind, the page says what the kind means at the top.
		body = c.Get(t, "/findings?kind=stuck_payout").Body
		require.Contains(t, body, `<section class="runbook-entry" id="kind-help">`)
	})
}

// findingRowHTML is the row of finding id on a page.
func findingRowHTML(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `<tr id="finding-`+id+`"`)
	require.GreaterOrEqual(t, start, 0, "row of %s", id)
	end := strings.Index(body[start:], "</tr>")
	require.Positive(t, end)
	return body[start : start+end]
}

var (
	statFindings = regexp.MustCompile(`id="stat-findings"><a href="/findings\?status=open">(\d+)</a>`)
	statSeverity = regexp.MustCompile(`id="stat-findings-severity">(\d+) errors?, (\d+) warnings?, (\d+) info<`)
)

// overviewCounts reads the open findings card: the total and its parts.
func overviewCounts(t *testing.T, c *dashboardtest.Client) (total int, parts [3]int, body string) {
	t.Helper()
	resp := c.Get(t, "/")
	require.Equal(t, http.StatusOK, resp.Status)
	m := statFindings.FindStringSubmatch(resp.Body)
	require.NotNil(t, m, "open findings count")
	total, _ = strconv.Atoi(m[1])
	s := statSeverity.FindStringSubmatch(resp.Body)
	require.NotNil(t, s, "open findings by severity")
	for i := range parts {
		parts[i], _ = strconv.Atoi(s[i+1])
	}
	return total, parts, resp.Body
}

// The overview's open findings add up across severities, and the list the
// count links to has that many rows.
func TestDashboardOverviewCountsAddUp(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		var want [3]int
		for _, f := range e.Fx.Findings {
			if f.Status != models.FindingOpen {
				continue
			}
			want[map[models.Severity]int{models.SeverityError: 0, models.SeverityWarning: 1, models.SeverityInfo: 2}[f.Severity]]++
		}
		total, parts, body := overviewCounts(t, c)
		require.Equal(t, want, parts)
		require.Equal(t, want[0]+want[1]+want[2], total)
		require.Positive(t, want[2], "the seed has an info finding, which the count once dropped")
		require.Equal(t, total, len(matches(findingRow, c.Get(t, "/findings?status=open").Body)))
		require.Contains(t, body, `<a href="/findings?status=acknowledged">1 acknowledged</a>`)

		// The chart: per kind, one count per severity, adding up to the bar.
		m := chartData.FindStringSubmatch(body)
		require.NotNil(t, m)
		var got chartsJSON
		require.NoError(t, json.Unmarshal([]byte(m[1]), &got))
		require.Len(t, got.Findings.Series, 3)
		for i := range got.Findings.Labels {
			var sum int64
			for _, s := range got.Findings.Series {
				sum += s.Counts[i]
			}
			require.Equal(t, got.Findings.Counts[i], sum, got.Findings.Labels[i])
		}
	})
}

// Snooze through the dashboard's form: the finding leaves the open list
// and the counts until the date, on the server's clock, then comes back.
func TestDashboardSnooze(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		c := dashboardtest.Login(t, e.URL, token)
		page := c.Get(t, "/findings?status=open")
		csrf := dashboardtest.CSRF(t, page.Body)
		target := e.Fx.Long
		path := "/findings/" + target.ID + "/snooze"
		total, _, _ := overviewCounts(t, c)

		until := e.Clock.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 3) // t0 is 2025-06-10 12:00
		form := func(date, note string) url.Values {
			return url.Values{"csrf": {csrf}, "return": {"/findings?status=open"}, "until": {date}, "note": {note}}
		}
		for _, bad := range []struct {
			form   url.Values
			status int
		}{
			{form(until.Format(time.DateOnly), ""), http.StatusUnprocessableEntity},
			{form("", "x"), http.StatusUnprocessableEntity},
			{form("2025-06-10", "x"), http.StatusUnprocessableEntity},                  // today began before now
			{form("2025-09-09", "x"), http.StatusUnprocessableEntity},                  // more than 90 days
			{form("06/13/2025", "x"), http.StatusUnprocessableEntity},                  // not a date the form sends
			{url.Values{"until": {"2025-06-13"}, "note": {"x"}}, http.StatusForbidden}, // no CSRF
		} {
			resp := c.PostForm(t, path, bad.form)
			require.Equal(t, bad.status, resp.Status, "%v", bad.form)
		}
		require.Equal(t, http.StatusForbidden,
			dashboardtest.NewClient(e.URL).PostForm(t, path, form(until.Format(time.DateOnly), "x")).Status, "no session")
		got, err := e.Store.FindingGet(ctx, target.ID)
		require.NoError(t, err)
		require.Nil(t, got.SnoozedUntil, "refused snoozes change nothing")

		resp := c.PostForm(t, path, form(until.Format(time.DateOnly), "Coinflow support: settles Friday"))
		require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
		require.Equal(t, "/findings?snoozed="+target.ID+"&status=open", resp.Header.Get("Location"))
		got, err = e.Store.FindingGet(ctx, target.ID)
		require.NoError(t, err)
		require.True(t, got.SnoozedUntil.Equal(until))
		require.Equal(t, principal.APIToken, *got.SnoozedBy, "the login's token name")
		require.Equal(t, "Coinflow support: settles Friday", *got.SnoozeNote)

		after := c.Get(t, resp.Header.Get("Location"))
		require.Contains(t, after.Body, `id="snoozed-notice"`)
		require.NotContains(t, matches(findingRow, after.Body), target.ID, "hidden from the open list")
		snoozed := c.Get(t, "/findings?status=snoozed").Body
		require.Equal(t, []string{target.ID}, matches(findingRow, snoozed))
		row := findingRowHTML(t, snoozed, target.ID)
		require.Contains(t, row, "Snoozed until")
		require.Contains(t, row, "Coinflow support: settles Friday")
		now, _, body := overviewCounts(t, c)
		require.Equal(t, total-1, now)
		require.Contains(t, body, `<a href="/findings?status=snoozed">1 snoozed</a>`)

		// A crafted notice link says nothing about a finding not snoozed.
		require.NotContains(t, c.Get(t, "/findings?snoozed="+e.Fx.Open.ID).Body, `id="snoozed-notice"`)

		// Past the date it is back, open, and counted.
		e.Clock.Set(until)
		c = dashboardtest.Login(t, e.URL, token) // sessions last 12 hours
		csrf = dashboardtest.CSRF(t, c.Get(t, "/findings").Body)
		require.Contains(t, matches(findingRow, c.Get(t, "/findings?status=open").Body), target.ID)
		now, _, _ = overviewCounts(t, c)
		require.Equal(t, total, now)

		// A resolved finding cannot be snoozed.
		resp = c.PostForm(t, "/findings/"+e.Fx.Resolved.ID+"/snooze", form(until.AddDate(0, 0, 2).Format(time.DateOnly), "x"))
		require.Equal(t, http.StatusConflict, resp.Status)
	})
}
