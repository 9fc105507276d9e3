package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
	"github.com/payoutd/payoutd/report/reporttest"
)

const reportPath = "/api/v1/reports/summary?from=2025-06-01&to=2025-06-03"

// getReport sends an authenticated GET with an optional Accept header and
// returns the status, headers and body.
func getReport(t *testing.T, srv *testserver.Server, path, accept string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

func TestReportSummaryJSON(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		fx := reporttest.Seed(t, srv.Store, clock)
		for name, accept := range map[string]string{"no accept": "", "any": "*/*", "json": "application/json"} {
			t.Run(name, func(t *testing.T) {
				code, h, b := getReport(t, srv, reportPath, accept)
				require.Equal(t, http.StatusOK, code, "%s", b)
				require.Contains(t, h.Get("Content-Type"), "application/json")
				requireUTCTimes(t, b)
				var s report.Summary
				require.NoError(t, json.Unmarshal(b, &s))
				reporttest.CheckSummary(t, fx, &s, reporttest.Now)

				// The API serves exactly what report.Build computes.
				want, err := report.Build(t.Context(), srv.Store, reporttest.From, reporttest.To)
				require.NoError(t, err)
				wantJSON, err := json.Marshal(want)
				require.NoError(t, err)
				require.JSONEq(t, string(wantJSON), string(b))
			})
		}
	})
}

func TestReportSummaryCSV(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		fx := reporttest.Seed(t, srv.Store, clock)
		want, err := report.Build(t.Context(), srv.Store, reporttest.From, reporttest.To)
		require.NoError(t, err)
		var wantCSV bytes.Buffer
		require.NoError(t, report.WriteCSV(&wantCSV, want))

		for name, tc := range map[string]struct{ path, accept string }{
			"format=csv":        {path: reportPath + "&format=csv"},
			"accept text/csv":   {path: reportPath, accept: "text/csv"},
			"accept with q":     {path: reportPath, accept: "text/csv;q=0.9"},
			"format over accep": {path: reportPath + "&format=csv", accept: "application/json"},
		} {
			t.Run(name, func(t *testing.T) {
				code, h, b := getReport(t, srv, tc.path, tc.accept)
				require.Equal(t, http.StatusOK, code, "%s", b)
				require.Equal(t, "text/csv; charset=utf-8", h.Get("Content-Type"))
				require.Equal(t, `attachment; filename="payoutd-all-2025-06-01-2025-06-03.csv"`, h.Get("Content-Disposition"))
				reporttest.CheckCSV(t, fx, b, reporttest.Now)
				require.Equal(t, wantCSV.String(), string(b))
			})
		}

		code, h, b := getReport(t, srv, reportPath+"&format=json", "text/csv")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, h.Get("Content-Type"), "application/json", "an explicit format wins over Accept")
		require.True(t, json.Valid(b))
	})
}

func TestReportSummaryEmptyRange(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		reporttest.Seed(t, srv.Store, clock)
		code, _, b := getReport(t, srv, "/api/v1/reports/summary?from=2025-01-01&to=2025-01-02", "")
		require.Equal(t, http.StatusOK, code, "%s", b)
		var s report.Summary
		require.NoError(t, json.Unmarshal(b, &s))
		require.NoError(t, s.Check())
		require.Empty(t, s.Payouts.Rows)
		require.Empty(t, s.Payouts.Totals)
		require.Empty(t, s.Wallet.Snapshots)

		code, _, b = getReport(t, srv, "/api/v1/reports/summary?from=2025-01-01&to=2025-01-02&format=csv", "")
		require.Equal(t, http.StatusOK, code, "%s", b)
		for _, row := range reporttest.ReadCSV(t, b) {
			require.NotEqual(t, report.SectionPayouts, row["section"])
			require.NotEqual(t, report.SectionPayoutsTotal, row["section"])
		}
	})
}

func TestReportSummaryRejectsBadRanges(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		for name, tc := range map[string]struct {
			query string
			field string
		}{
			"missing from":   {"to=2025-06-02", "from"},
			"missing to":     {"from=2025-06-01", "to"},
			"missing both":   {"", "from"},
			"not a date":     {"from=yesterday&to=2025-06-02", "from"},
			"a time":         {"from=2025-06-01&to=2025-06-02T00:00:00Z", "to"},
			"from equals to": {"from=2025-06-01&to=2025-06-01", "to"},
			"from after to":  {"from=2025-06-02&to=2025-06-01", "to"},
			"over 366 days":  {"from=2025-01-01&to=2026-01-03", "to"},
			"unknown format": {"from=2025-06-01&to=2025-06-02&format=xlsx", "format"},
		} {
			t.Run(name, func(t *testing.T) {
				code, _, b := getReport(t, srv, "/api/v1/reports/summary?"+tc.query, "")
				requireInvalid(t, code, b, tc.field, tc.query)
			})
		}
		code, _, b := getReport(t, srv, "/api/v1/reports/summary?from=2025-01-01&to=2026-01-02", "")
		require.Equal(t, http.StatusOK, code, "366 days is allowed: %s", b)

		code, b = send(t, http.MethodGet, srv.URL+reportPath, "", "")
		require.Equal(t, http.StatusUnauthorized, code)
		requireError(t, b, "unauthorized")
	})
}

// Stored amounts that add up past int64 are a server fault that no retry
// mends: 500 with a fixed message, not 503 "database unavailable", and
// nothing of the error's text.
func TestReportSummaryOverflowingSumIs500(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		dbtest.InsertPayouts(t, srv.Store, dbtest.OverflowingPayouts(reporttest.From.Add(9*time.Hour))...)
		for _, format := range []string{"json", "csv", "csv&report=payouts", "csv&report=summary"} {
			code, _, b := getReport(t, srv, reportPath+"&format="+format, "")
			require.Equal(t, http.StatusInternalServerError, code, "%s: %s", format, b)
			e := requireError(t, b, "sum_overflow")
			require.Equal(t, "stored amounts add up to more than payoutd can count; a payout's amount is wrong", e.Error.Message)
			require.NotContains(t, string(b), "int64")
		}
	})
}

// Every named report through the API: the bytes WriteNamed writes for the
// same store and range, a header and a constant width, the fixture's
// figures, and the itemized rows adding up to the summary to the cent.
func TestReportNamedCSV(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, clock *dbtest.Clock) {
		fx := reporttest.SeedVaried(t, srv.Store, clock)
		tables := map[string]reporttest.Table{}
		for _, name := range reporttest.Names {
			code, h, b := getReport(t, srv, reportPath+"&format=csv&report="+name, "")
			require.Equal(t, http.StatusOK, code, "%s: %s", name, b)
			require.Equal(t, "text/csv; charset=utf-8", h.Get("Content-Type"))
			require.Equal(t, `attachment; filename="payoutd-`+name+`-2025-06-01-2025-06-03.csv"`, h.Get("Content-Disposition"))
			var want bytes.Buffer
			require.NoError(t, report.WriteNamed(t.Context(), &want, srv.Store, name, reporttest.From, reporttest.To))
			require.Equal(t, want.String(), string(b), name)
			tables[name] = reporttest.CheckNamed(t, fx, name, b, reporttest.Now)
		}
		reporttest.CheckItemizedAgainstSummary(t, tables["payouts"], tables["summary"])

		// A CSV-only report needs no format, whatever Accept says.
		for _, accept := range []string{"", "*/*", "application/json"} {
			code, h, b := getReport(t, srv, reportPath+"&report=fees", accept)
			require.Equal(t, http.StatusOK, code, "%s", b)
			require.Equal(t, "text/csv; charset=utf-8", h.Get("Content-Type"))
			reporttest.CheckNamed(t, fx, "fees", b, reporttest.Now)
		}
		// summary and all are the Summary in JSON unless CSV is asked for.
		want, err := report.Build(t.Context(), srv.Store, reporttest.From, reporttest.To)
		require.NoError(t, err)
		wantJSON, err := json.Marshal(want)
		require.NoError(t, err)
		for _, q := range []string{"&report=summary", "&report=all", "&report=summary&format=json", "&report=all&format=json"} {
			code, h, b := getReport(t, srv, reportPath+q, "")
			require.Equal(t, http.StatusOK, code, "%s: %s", q, b)
			require.Contains(t, h.Get("Content-Type"), "application/json", q)
			require.JSONEq(t, string(wantJSON), string(b), q)
		}
		code, h, b := getReport(t, srv, reportPath+"&report=summary", "text/csv")
		require.Equal(t, http.StatusOK, code, "%s", b)
		require.Equal(t, `attachment; filename="payoutd-summary-2025-06-01-2025-06-03.csv"`, h.Get("Content-Disposition"))
		reporttest.ReadTable(t, b, reporttest.Headers["summary"])
	})
}

func TestReportNamedRefusals(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, srv *testserver.Server, _ *dbtest.Clock) {
		for _, q := range []string{"&report=ledger&format=csv", "&report=", "&report=PAYOUTS", "&report=ledger&from=bad"} {
			code, _, b := getReport(t, srv, reportPath+q, "")
			require.Equal(t, http.StatusBadRequest, code, "%s: %s", q, b)
			e := requireError(t, b, "unknown_report")
			require.Contains(t, e.Error.Message, "payouts, summary, fees, speeds, failures, aging, all", "the names: %s", q)
			require.Contains(t, e.Error.Fields, "report")
		}
		for _, name := range []string{"payouts", "fees", "speeds", "failures", "aging"} {
			code, _, b := getReport(t, srv, reportPath+"&format=json&report="+name, "")
			require.Equal(t, http.StatusBadRequest, code, "%s: %s", name, b)
			e := requireError(t, b, "csv_only_report")
			require.Contains(t, e.Error.Message, "format=csv")
		}
		code, _, b := getReport(t, srv, "/api/v1/reports/summary?from=2025-06-01&report=payouts", "")
		requireInvalid(t, code, b, "to", "a named report still needs its range")
		code, b = send(t, http.MethodGet, srv.URL+reportPath+"&report=payouts", "", "")
		require.Equal(t, http.StatusUnauthorized, code, "%s", b)
	})
}

// A failure after the first rows cannot change the 200: the connection is
// cut, so that the client's read fails instead of ending on a short file
// that looks whole, and the error is logged. A stored time that cannot be
// read makes the failure; PostgreSQL would not store it, so this is
// SQLite's alone.
func TestReportPayoutsCutShortIsVisible(t *testing.T) {
	t.Parallel()
	clock := dbtest.NewClock(reporttest.Now)
	srv := testserver.Start(t, dbtest.SQLite(t, dbtest.Options{NowFunc: clock.Now}), testserver.Options{Clock: clock})
	reporttest.SeedUnreadable(t, srv.Store)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+reportPath+"&report=payouts", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the first page went out")
	b, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body ends without its last chunk")
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, 1001, "the header and the first page, whole")
	require.True(t, strings.HasPrefix(lines[1000], "p-0999,"), "the first page ends the body: %.40q", lines[1000])

	var logged bool
	for _, e := range srv.Logs.AllEntries() {
		if e.Message == "report cut short" {
			logged = true
			require.Equal(t, "payouts", e.Data["report"])
			require.ErrorContains(t, e.Data[logrus.ErrorKey].(error), "payouts report 2025-06-01 to 2025-06-03")
		}
	}
	require.True(t, logged, "the cut is logged")

	// Before the first row, a failure is still an error answer.
	require.NoError(t, srv.Store.DB().Exec(`UPDATE payouts SET returned_at = 'not a time' WHERE id = 'p-0001'`).Error)
	code, _, body := getReport(t, srv, reportPath+"&report=payouts", "")
	require.Equal(t, http.StatusInternalServerError, code, "%s", body)
	requireError(t, body, "internal")
}

// A client that goes away mid-download is no fault of payoutd's: logged at
// info as abandoned, not as a report cut short.
func TestReportPayoutsAbandonedDownload(t *testing.T) {
	t.Parallel()
	clock := dbtest.NewClock(reporttest.Now)
	srv := testserver.Start(t, dbtest.SQLite(t, dbtest.Options{NowFunc: clock.Now}), testserver.Options{Clock: clock})
	// 20,000 rows, some 3 MB: more than the sockets hold, so the handler is
	// still writing when the client leaves.
	var ps []dbtest.RawPayout
	for i := range 20_000 {
		ps = append(ps, dbtest.RawPayout{ID: fmt.Sprintf("a-%05d", i), Cents: 100, Speed: "standard",
			CreatedAt: reporttest.From.Add(time.Duration(i) * time.Second)})
	}
	require.NoError(t, srv.Store.Tx(t.Context(), func(tx *models.Store) error {
		dbtest.InsertPayouts(t, tx, ps...)
		return nil
	}))

	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+reportPath+"&report=payouts", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = io.ReadFull(resp.Body, make([]byte, 1000))
	require.NoError(t, err)
	cancel()
	_ = resp.Body.Close()

	messages := func() []string {
		var ms []string
		for _, e := range srv.Logs.AllEntries() {
			if e.Data["report"] == "payouts" {
				ms = append(ms, e.Level.String()+" "+e.Message)
			}
		}
		return ms
	}
	require.Eventually(t, func() bool { return len(messages()) > 0 }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"info report download abandoned"}, messages())
}
