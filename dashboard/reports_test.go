package dashboard_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
)

// echoCSV stands for the CSV reports: a header and one row naming the
// report and the range it was asked for, so that a test sees what the
// dashboard passed on.
func echoCSV(_ context.Context, w io.Writer, name string, from, to time.Time) error {
	_, err := fmt.Fprintf(w, "report,from,to\n%s,%s,%s\n", name, from.Format(time.RFC3339), to.Format(time.RFC3339))
	return err
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// requireSummary requires page to show every total of the summary for
// [from, to), each formatted with its currency.
func requireSummary(t *testing.T, page string, s *report.Summary) {
	t.Helper()
	require.NotEmpty(t, s.Payouts.Totals)
	for _, a := range s.Payouts.Totals {
		require.Contains(t, page, fmt.Sprintf(`<tr data-currency="%s"><td data-label="Currency">%s</td><td class="num" data-label="Payouts">%d</td><td class="num nowrap" data-label="Amount">%s</td></tr>`,
			a.Currency, a.Currency, a.Count, models.Money{Cents: a.Cents, Currency: a.Currency}))
	}
	for _, rows := range [][]report.Amount{s.Fees.User, s.Fees.Merchant, s.Failures.Failed, s.Aging.Stuck} {
		for _, a := range rows {
			require.Contains(t, page, a.Formatted)
		}
	}
	require.Contains(t, page, fmt.Sprintf("%d open or acknowledged", s.Findings.Total))
}

func TestDashboardReportsPage(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		dashboardtest.Seed(t, store, clock, t0)
		u, _ := serve(t, store, clock, dashboard.Deps{Tokens: sharedToken(token), ReportNames: []string{"all"}, WriteReport: echoCSV})
		c := dashboardtest.Login(t, u, token)
		ctx := t.Context()

		// The current month to date by default, on the store's clock
		// (2025-06-10).
		resp := c.Get(t, "/reports")
		require.Equal(t, http.StatusOK, resp.Status)
		page := resp.Body
		require.Contains(t, page, `<input type="date" name="from" value="2025-06-01" required>`)
		require.Contains(t, page, `<input type="date" name="to" value="2025-06-10" required>`)
		require.Contains(t, page, `aria-current="page">Reports</a>`)
		month, err := report.Build(ctx, store, day("2025-06-01"), day("2025-06-11"))
		require.NoError(t, err)
		requireSummary(t, page, month)
		require.Contains(t, page, "4,200.00 EUR", "the EUR payout, in its own currency")
		require.Contains(t, page, `<a href="/reports/download?from=2025-06-01&amp;report=all&amp;to=2025-06-10" download data-report="all">all (CSV)</a>`)
		require.Contains(t, page, `id="reconcile-now" disabled`, "no reconciler: the button is disabled")
		require.Contains(t, page, "payoutd has no Coinflow API key")
		// What every page must have (see TestDashboardPagesAreStrict).
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'; style-src 'self'")
		for _, tag := range scriptTag.FindAllString(page, -1) {
			require.Contains(t, tag, ` src="/assets/`, "inline script %s", tag)
		}
		require.NotContains(t, page, " style=")

		// A range of days, both included: 5 and 6 June.
		resp = c.Get(t, "/reports?from=2025-06-05&to=2025-06-06")
		require.Equal(t, http.StatusOK, resp.Status)
		two, err := report.Build(ctx, store, day("2025-06-05"), day("2025-06-07"))
		require.NoError(t, err)
		requireSummary(t, resp.Body, two)
		require.NotEqual(t, month.Payouts.Totals, two.Payouts.Totals)
		require.NotContains(t, resp.Body, "4,200.00 EUR", "the EUR payout is of 10 June")
		require.Contains(t, resp.Body, `href="/reports/download?from=2025-06-05&amp;report=all&amp;to=2025-06-06"`)

		for q, named := range map[string]string{
			"from=June":                       "from must be a date like 2025-06-01",
			"from=2025-06-05&to=2025-06-04":   "to must not be before from",
			"from=2024-01-01&to=2025-06-01":   "to must be at most 366 days after from",
			"from=2025-06-01&to=2025-06-31":   "to must be a date like 2025-06-01",
			"from=2025-06-01&format=json":     "format is not a filter of this page",
			"from=2025-06-01T00:00:00Z&to=x":  "from must be a date like 2025-06-01 (YYYY-MM-DD); to must be a date",
			"report=all&from=2025-06-01&to=x": "report is not a filter of this page",
		} {
			resp := c.Get(t, "/reports?"+q)
			require.Equal(t, http.StatusBadRequest, resp.Status, q)
			require.Contains(t, html.UnescapeString(resp.Body), "This page cannot be filtered so: ", q)
			require.Contains(t, html.UnescapeString(resp.Body), named, q)
		}
	})
}

func TestDashboardReportDownload(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		dashboardtest.Seed(t, store, clock, t0)
		u, _ := serve(t, store, clock, dashboard.Deps{Tokens: sharedToken(token), ReportNames: []string{"all"}, WriteReport: echoCSV})
		c := dashboardtest.Login(t, u, token)

		resp := c.Get(t, "/reports/download?report=all&from=2025-06-05&to=2025-06-06")
		require.Equal(t, http.StatusOK, resp.Status)
		require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Equal(t, `attachment; filename="payoutd-all-2025-06-05-through-2025-06-06.csv"`, resp.Header.Get("Content-Disposition"))
		require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		require.Equal(t, "report,from,to\nall,2025-06-05T00:00:00Z,2025-06-07T00:00:00Z\n", resp.Body,
			"5 and 6 June: to is excluded for the writer")
		rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, [][]string{{"report", "from", "to"}, {"all", "2025-06-05T00:00:00Z", "2025-06-07T00:00:00Z"}}, rows)

		// Defaults: this month to date.
		resp = c.Get(t, "/reports/download?report=all")
		require.Equal(t, http.StatusOK, resp.Status)
		require.Equal(t, `attachment; filename="payoutd-all-2025-06-01-through-2025-06-10.csv"`, resp.Header.Get("Content-Disposition"))
		require.Equal(t, "report,from,to\nall,2025-06-01T00:00:00Z,2025-06-11T00:00:00Z\n", resp.Body)

		for q, named := range map[string]string{
			"report=payouts&from=2025-06-05&to=2025-06-06": "report must be one of all",
			"from=2025-06-05&to=2025-06-06":                "report is required: one of all",
			"report=all&from=2025-06-07&to=2025-06-06":     "to must not be before from",
			"report=all&format=csv":                        "format is not a filter of this page",
		} {
			resp := c.Get(t, "/reports/download?"+q)
			require.Equal(t, http.StatusBadRequest, resp.Status, q)
			require.Contains(t, resp.Body, named, q)
			require.Empty(t, resp.Header.Get("Content-Disposition"), q)
		}

		// Behind the login: no report without a session.
		resp = dashboardtest.NewClient(u).Get(t, "/reports/download?report=all")
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login?next="))
		require.Empty(t, resp.Header.Get("Content-Disposition"))

		// A report that fails is an error page, not a cut file.
		failing := func(context.Context, io.Writer, string, time.Time, time.Time) error {
			return fmt.Errorf("read: %w", models.ErrUnavailable)
		}
		u2, _ := serve(t, store, clock, dashboard.Deps{Tokens: sharedToken(token), ReportNames: []string{"all"}, WriteReport: failing})
		resp = dashboardtest.Login(t, u2, token).Get(t, "/reports/download?report=all")
		require.Equal(t, http.StatusServiceUnavailable, resp.Status)
		require.Contains(t, resp.Body, "Database unavailable")
		require.Empty(t, resp.Header.Get("Content-Disposition"))

		// Without reports to offer, the page says so.
		u3, _ := serve(t, store, clock, dashboard.Deps{Tokens: sharedToken(token)})
		c3 := dashboardtest.Login(t, u3, token)
		resp = c3.Get(t, "/reports")
		require.Equal(t, http.StatusOK, resp.Status)
		require.Contains(t, resp.Body, "This payoutd offers no CSV reports.")
		require.NotContains(t, resp.Body, "/reports/download")
	})
}

// TestDashboardReportsThroughRouter: api.NewRouter gives the dashboard
// the summary CSV as "all".
func TestDashboardReportsThroughRouter(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	srv := testserver.Start(t, store, testserver.Options{})
	c := dashboardtest.Login(t, srv.URL, testserver.APIToken)
	today := store.Now().UTC().Format(time.DateOnly)
	page := c.Get(t, "/reports?from="+today+"&to="+today)
	require.Equal(t, http.StatusOK, page.Status)
	require.Contains(t, page.Body, `id="reconcile-now" disabled`, "testserver configures no reconciler")

	// Every named report is offered and downloads as the CLI and the API
	// write it: a CSV with its header.
	for _, name := range report.Names() {
		require.Contains(t, page.Body, `data-report="`+name+`"`)
		resp := c.Get(t, "/reports/download?report="+name+"&from="+today+"&to="+today)
		require.Equal(t, http.StatusOK, resp.Status, name)
		require.Equal(t, `attachment; filename="payoutd-`+name+`-`+today+`-through-`+today+`.csv"`, resp.Header.Get("Content-Disposition"))
		rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
		require.NoError(t, err, name)
		require.NotEmpty(t, rows, name)
		var want bytes.Buffer
		from, _ := time.Parse(time.DateOnly, today)
		require.NoError(t, report.WriteNamed(t.Context(), &want, store, name, from, from.AddDate(0, 0, 1)))
		wantHeader, err := csv.NewReader(&want).Read()
		require.NoError(t, err)
		require.Equal(t, wantHeader, rows[0], "%s: the report's own header", name)
	}
	require.Equal(t, http.StatusBadRequest, c.Get(t, "/reports/download?report=nope").Status)
}
