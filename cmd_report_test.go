package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
	"github.com/payoutd/payoutd/report/reporttest"
)

// emptyConfig writes a config file that sets nothing, so that the test does
// not depend on the repository's config.yaml.
func emptyConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, []byte("{}\n"), 0o600))
	return path
}

// eachFileDB runs fn on a migrated SQLite file and PostgreSQL database,
// with a store on a clock at start and the URL a payoutd command is given.
func eachFileDB(t *testing.T, start time.Time, fn func(t *testing.T, store *models.Store, clock *dbtest.Clock, dbURL string)) {
	t.Helper()
	for _, dialect := range []string{models.DialectSQLite, models.DialectPostgres} {
		t.Run(dialect, func(t *testing.T) {
			dbURL := "sqlite:" + filepath.Join(t.TempDir(), "payoutd.db")
			if dialect == models.DialectPostgres {
				dbURL = dbtest.PostgresURL(t)
			}
			clock := dbtest.NewClock(start)
			store, err := models.Open(t.Context(), models.Options{URL: dbURL, NowFunc: clock.Now})
			require.NoError(t, err)
			t.Cleanup(func() { _ = store.Close() })
			_, err = store.Migrate(t.Context())
			require.NoError(t, err)
			fn(t, store, clock, dbURL)
		})
	}
}

// eachReportDB runs fn on each database of eachFileDB, seeded with the
// report fixture.
func eachReportDB(t *testing.T, fn func(t *testing.T, store *models.Store, dbURL string, fx *reporttest.Fixture)) {
	t.Helper()
	eachFileDB(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock, dbURL string) {
		fx := reporttest.Seed(t, store, clock)
		// payoutd report runs on the wall clock; so does the report it is
		// compared with. Every seeded payout is over 7 days old by it.
		clock.Set(time.Now())
		fn(t, store, dbURL, fx)
	})
}

func runReport(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append([]string{"payoutd", "report", "--config", emptyConfig(t)}, args...)
	err := run(t.Context(), argv, getenvFrom(map[string]string{"PAYOUTD_DATABASE_URL": dbURL}), &stdout, &stderr)
	return stdout.String(), err
}

// reportJSON runs payoutd report from to, in its default format, and
// requires it to succeed and print a summary as JSON.
func reportJSON(t *testing.T, dbURL, from, to string) report.Summary {
	t.Helper()
	out, err := runReport(t, dbURL, "--from", from, "--to", to)
	require.NoError(t, err)
	var got report.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &got), "json is the default format: %s", out)
	return got
}

// withoutGenerated drops the generated_at row of a report CSV, the one
// line two runs may differ in.
func withoutGenerated(csv string) (string, time.Time) {
	var kept []string
	var at time.Time
	for line := range strings.SplitSeq(csv, "\n") {
		if rest, ok := strings.CutPrefix(line, report.SectionGenerated+",,"); ok {
			at, _ = time.Parse(time.RFC3339Nano, strings.TrimRight(rest, ","))
			continue
		}
		kept = append(kept, line)
	}
	return strings.Join(kept, "\n"), at
}

func TestReportCommandJSON(t *testing.T) {
	t.Parallel()
	eachReportDB(t, func(t *testing.T, store *models.Store, dbURL string, fx *reporttest.Fixture) {
		got := reportJSON(t, dbURL, "2025-06-01", "2025-06-03")
		reporttest.CheckSummary(t, fx, &got, got.GeneratedAt)

		// The CLI prints exactly what report.Build computes, and so what the
		// API serves, but for the moment it was generated.
		want, err := report.Build(t.Context(), store, reporttest.From, reporttest.To)
		require.NoError(t, err)
		got.GeneratedAt = want.GeneratedAt
		gotJSON, err := json.Marshal(&got)
		require.NoError(t, err)
		wantJSON, err := json.Marshal(want)
		require.NoError(t, err)
		require.JSONEq(t, string(wantJSON), string(gotJSON))

		explicit, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03", "--format", "json")
		require.NoError(t, err)
		require.True(t, json.Valid([]byte(explicit)))
	})
}

func TestReportCommandCSV(t *testing.T) {
	t.Parallel()
	eachReportDB(t, func(t *testing.T, store *models.Store, dbURL string, fx *reporttest.Fixture) {
		out, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03", "--format", "csv")
		require.NoError(t, err)
		gotCSV, at := withoutGenerated(out)
		require.False(t, at.IsZero(), "a generated_at row: %s", out)
		reporttest.CheckCSV(t, fx, []byte(out), at)

		want, err := report.Build(t.Context(), store, reporttest.From, reporttest.To)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, report.WriteCSV(&buf, want))
		wantCSV, _ := withoutGenerated(buf.String())
		require.Equal(t, wantCSV, gotCSV)
	})
}

func TestReportCommandEmptyRange(t *testing.T) {
	t.Parallel()
	eachReportDB(t, func(t *testing.T, _ *models.Store, dbURL string, _ *reporttest.Fixture) {
		got := reportJSON(t, dbURL, "2025-01-01", "2025-01-02")
		require.NoError(t, got.Check())
		require.Empty(t, got.Payouts.Totals)
		require.Empty(t, got.Wallet.Snapshots)
	})
}

func TestReportCommandUsageErrors(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "never-opened.db")
	for name, tc := range map[string]struct {
		args []string
		flag string
	}{
		"no flags":       {nil, "-from"},
		"missing to":     {[]string{"--from", "2025-06-01"}, "-to"},
		"not a date":     {[]string{"--from", "06/01/2025", "--to", "2025-06-02"}, "-from"},
		"from equals to": {[]string{"--from", "2025-06-01", "--to", "2025-06-01"}, "-to"},
		"over 366 days":  {[]string{"--from", "2025-01-01", "--to", "2026-01-03"}, "-to"},
		"bad format":     {[]string{"--from", "2025-06-01", "--to", "2025-06-02", "--format", "xml"}, "-format"},
		"unknown flag":   {[]string{"--from", "2025-06-01", "--to", "2025-06-02", "--since", "x"}, "-since"},
		"unknown report": {[]string{"--from", "2025-06-01", "--to", "2025-06-02", "--report", "ledger"}, "-report"},
		"empty report":   {[]string{"--from", "2025-06-01", "--to", "2025-06-02", "--report="}, "-report"},
		"json of a csv":  {[]string{"--from", "2025-06-01", "--to", "2025-06-02", "--report", "payouts", "--format", "json"}, "-format"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := runReport(t, dbURL, tc.args...)
			require.Error(t, err)
			require.Equal(t, 2, exitCode(err), "%v", err)
			require.Contains(t, err.Error(), tc.flag)
			require.Contains(t, err.Error(), "report --from DATE --to DATE", "the usage names the command")
			require.NotContains(t, err.Error(), "\n", "one line")
			require.Empty(t, out)
		})
	}
	_, err := os.Stat(strings.TrimPrefix(dbURL, "sqlite:"))
	require.ErrorIs(t, err, os.ErrNotExist, "a usage error opens no database")
}

func TestReportCommandRefusesAnUnmigratedDatabase(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "empty.db")
	out, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-02")
	require.ErrorContains(t, err, "payoutd migrate")
	require.Equal(t, 1, exitCode(err))
	require.Empty(t, out)
}

// A stored amount that makes a sum overflow still fails payoutd report
// (exit 1: there is no right figure to print), with a message that says
// which sum and prints nothing half-made.
func TestReportCommandOverflowingSumSaysSo(t *testing.T) {
	eachReportDB(t, func(t *testing.T, store *models.Store, dbURL string, _ *reporttest.Fixture) {
		dbtest.InsertPayouts(t, store, dbtest.OverflowingPayouts(reporttest.From.Add(9*time.Hour))...)
		out, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03")
		require.ErrorIs(t, err, models.ErrOverflow)
		require.EqualError(t, err, "build report 2025-06-01 to 2025-06-03: report payouts: sum of payout amounts overflows int64")
		require.Equal(t, 1, exitCode(err))
		require.Empty(t, out)

		out, err = runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03", "--report", "payouts")
		require.ErrorIs(t, err, models.ErrOverflow)
		require.EqualError(t, err, "payouts report 2025-06-01 to 2025-06-03: report payouts: sum of payout amounts overflows int64")
		require.Equal(t, 1, exitCode(err))
		require.Empty(t, out, "the totals are taken before the first row")
	})
}

// eachVariedDB runs fn on each database of eachFileDB, seeded with the
// varied report fixture, with a payoutd serving the same store through the
// API on the store's clock, set to the wall clock the CLI runs on.
func eachVariedDB(t *testing.T, fn func(t *testing.T, srv *testserver.Server, dbURL string, fx *reporttest.Fixture)) {
	t.Helper()
	eachFileDB(t, reporttest.Now, func(t *testing.T, store *models.Store, clock *dbtest.Clock, dbURL string) {
		fx := reporttest.SeedVaried(t, store, clock)
		clock.Set(time.Now())
		fn(t, testserver.Start(t, store, testserver.Options{Clock: clock}), dbURL, fx)
	})
}

// apiCSV gets the named report for the fixture's range through the API.
func apiCSV(t *testing.T, srv *testserver.Server, name string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		srv.URL+"/api/v1/reports/summary?from=2025-06-01&to=2025-06-03&format=csv&report="+name, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testserver.APIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	return string(b)
}

// asOf is the instant an aging report was made, and the report with it
// blanked: the one thing two runs of it may differ in.
func asOf(t *testing.T, csv string) (string, time.Time) {
	t.Helper()
	rows := reporttest.ReadTable(t, []byte(csv), reporttest.Headers["aging"])
	require.NotEmpty(t, rows)
	at, err := time.Parse(time.RFC3339Nano, rows[0]["as_of"])
	require.NoError(t, err)
	return strings.ReplaceAll(csv, rows[0]["as_of"], "AS_OF"), at
}

// Every named report through the CLI: the fixture's figures, the itemized
// rows adding up to the summary, and the API's bytes for the same store
// and range (but the instant aging and all are made at).
func TestReportCommandNamed(t *testing.T) {
	t.Parallel()
	eachVariedDB(t, func(t *testing.T, srv *testserver.Server, dbURL string, fx *reporttest.Fixture) {
		tables := map[string]reporttest.Table{}
		for _, name := range reporttest.Names {
			out, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03", "--report", name, "--format", "csv")
			require.NoError(t, err, name)
			api := apiCSV(t, srv, name)
			switch name {
			case "all":
				got, at := withoutGenerated(out)
				want, _ := withoutGenerated(api)
				require.Equal(t, want, got)
				reporttest.CheckCSV(t, fx, []byte(out), at)
			case "aging":
				got, at := asOf(t, out)
				want, _ := asOf(t, api)
				require.Equal(t, want, got)
				require.WithinDuration(t, time.Now(), at, time.Minute)
				tables[name] = reporttest.CheckNamed(t, fx, name, []byte(out), at)
			default:
				require.Equal(t, api, out, "%s: the API's bytes", name)
				tables[name] = reporttest.CheckNamed(t, fx, name, []byte(out), time.Now())
			}
		}
		reporttest.CheckItemizedAgainstSummary(t, tables["payouts"], tables["summary"])

		// A CSV-only report needs no --format.
		out, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03", "--report", "payouts")
		require.NoError(t, err)
		require.Equal(t, apiCSV(t, srv, "payouts"), out)
		// summary and all are JSON unless CSV is asked for.
		for _, name := range []string{"summary", "all"} {
			out, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03", "--report", name)
			require.NoError(t, err)
			var s report.Summary
			require.NoError(t, json.Unmarshal([]byte(out), &s), "%s: %s", name, out)
			reporttest.CheckSummary(t, fx, &s, s.GeneratedAt)
		}
	})
}

// A failure after the first rows of the payouts report leaves stdout short
// and exits 1 saying why: never a short file and a success. A stored time
// that cannot be read makes it; PostgreSQL would not store one.
func TestReportCommandPayoutsCutShortFails(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "payoutd.db")
	store, err := models.Open(t.Context(), models.Options{URL: dbURL})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	_, err = store.Migrate(t.Context())
	require.NoError(t, err)
	reporttest.SeedUnreadable(t, store)
	out, err := runReport(t, dbURL, "--from", "2025-06-01", "--to", "2025-06-03", "--report", "payouts")
	require.ErrorContains(t, err, "payouts report 2025-06-01 to 2025-06-03: report payouts: ")
	require.Equal(t, 1, exitCode(err))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 1001, "the header and the first page")
}
