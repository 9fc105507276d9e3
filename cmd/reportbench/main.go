// Command reportbench measures the finance report (GET /api/v1/reports/summary,
// report.Build) on a month of payouts in PostgreSQL, against a one-pass
// GROUP BY over the same rows timed in the same run.
//
// One run:
//
//  1. makes a fresh database, migrates it and loads -n payouts over -days
//     (INSERT ... SELECT generate_series: four currencies, every status,
//     speeds with downgrades and NACHA ones, fees, returns, foreign payouts
//     priced and not, unclaimed ones), -findings unresolved findings and a
//     wallet snapshot every -snapshot-every, then VACUUM ANALYZE, as
//     autovacuum would have left them;
//  2. times, -rounds times, in alternating order (A P B, B P A, ...):
//     A, the baseline: SELECT day, status, currency, COUNT(*), SUM(amount)
//     over the range's payouts, GROUP BY the three, rows read into Go;
//     P, the summary's one pass alone (models.Store.ReportGroups: the one
//     GROUP BY giving every per-currency count and sum of the range);
//     B, the summary as the API serves it: report.Build and json.Marshal;
//     and each -cli binary's "payoutd report --format json" on the same
//     database (say, a build of an older commit, for before and after);
//  3. prints the medians, the ratios B/A and B/P (target: at most 1.5, and
//     B at most 1 s), what the summary held, the time of each of its reads,
//     and with -explain the plans of A and of the one pass.
//
// It is a measurement, not a test: it exits 0 whatever the figures; setup
// failures exit 1 and bad flags 2. The database is dropped at the end
// (unless -keep).
//
//	go run ./cmd/reportbench                                  # 1,000,000 payouts, 5 rounds
//	go run ./cmd/reportbench -cli /tmp/payoutd-before,/tmp/payoutd-after -explain
//	go run ./cmd/reportbench -snapshot-every 0                # no wallet series
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/internal/benchdb"
)

func main() { bench.Main("reportbench", run) }

// The targets of issue 12.
const (
	targetRatio   = 1.5
	targetSummary = time.Second
)

type options struct {
	databaseURL   string
	n             int
	days          int
	findings      int
	snapshotEvery time.Duration
	rounds        int
	cli           []string
	explain       bool
	keep          bool
	waitQuiet     time.Duration
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	var cli string
	fs := bench.NewFlagSet("reportbench")
	fs.StringVar(&o.databaseURL, "database-url", benchdb.AdminURL(getenv), "PostgreSQL admin URL; the run creates and drops its own database there")
	fs.IntVar(&o.n, "n", 1_000_000, "payouts to load")
	fs.IntVar(&o.days, "days", 30, "days the payouts are spread over; the report covers them all")
	fs.IntVar(&o.findings, "findings", 10_000, "unresolved findings to load (a twentieth as many resolved besides)")
	fs.DurationVar(&o.snapshotEvery, "snapshot-every", 5*time.Minute, "wallet snapshots in the range, one per interval (reconciliation's default schedule); 0 for none")
	fs.IntVar(&o.rounds, "rounds", 5, "timings of each")
	fs.StringVar(&cli, "cli", "", "comma-separated payoutd binaries whose report command is timed on the same database too")
	fs.BoolVar(&o.explain, "explain", false, "print EXPLAIN (ANALYZE, BUFFERS) of the baseline and of the summary's one pass")
	fs.BoolVar(&o.keep, "keep", false, "keep the database and print its URL")
	fs.DurationVar(&o.waitQuiet, "wait-quiet", 0, "before timing, wait up to this long for the machine to be nearly idle")
	if err := bench.ParseFlags(fs, args); err != nil {
		return o, err
	}
	if cli != "" {
		o.cli = strings.Split(cli, ",")
	}
	var errs []string
	if o.n < 1000 || o.days < 1 || o.findings < 0 || o.rounds < 1 {
		errs = append(errs, "-n must be at least 1000, -days and -rounds at least 1, -findings not negative")
	}
	if o.snapshotEvery < 0 || o.waitQuiet < 0 {
		errs = append(errs, "-snapshot-every and -wait-quiet must not be negative")
	}
	if !strings.HasPrefix(o.databaseURL, "postgres://") && !strings.HasPrefix(o.databaseURL, "postgresql://") {
		errs = append(errs, "-database-url must be a postgres:// URL")
	}
	return o, bench.BadFlags(errs)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; the database this run created is dropped")
		}
	}()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(args[1:], getenv)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "reportbench: "+format+"\n", a...) }
	store, db, finish, err := benchdb.Migrated(ctx, o.databaseURL, "payoutd_reportbench", o.keep, stdout)
	if err != nil {
		return err
	}
	defer finish(&err)
	start := time.Now()
	progress("loading %d payouts over %d days, %d findings…", o.n, o.days, o.findings)
	if err := load(ctx, store.DB(), o); err != nil {
		return err
	}
	progress("loaded in %s", time.Since(start).Round(time.Second))
	if o.waitQuiet > 0 {
		bench.WaitQuiet(ctx, o.waitQuiet, func(load float64, left time.Duration) {
			progress("machine busy (%.2f cores), waiting up to %s", load, left.Round(time.Second))
		})
	}
	return measure(ctx, store, db.URL, o, stdout, progress)
}
