// Command reconcilebench measures reconciliation over a large history: n
// local payouts in PostgreSQL against the same n withdraws listed by the
// Coinflow emulator, 1% of them disagreeing, and holds it to the time the
// client takes just to page through those withdraws.
//
// For each size it creates a fresh database on the server -database-url
// names, migrates it, bulk-loads n payouts with COPY (each in sync with
// Coinflow as earlier runs would have left it, with its completion history
// row), runs VACUUM ANALYZE, records a previous wallet snapshot (so the
// drift check compares, as in every run after the first), and serves the
// matching withdraws from coinflowtest.SeedSynthetic: same transaction,
// idempotency key, amount and status, created over 20 days ending two
// hours ago. Every 100th disagrees, on the amount or (in turn) the status.
//
// It then alternates, -runs times, the baseline (the client paging through
// the n withdraws as reconciliation does, same window, page size 100 and
// pages fetched ahead, doing nothing with them) and one
// reconcile.Reconciler.RunOnce, each after the machine has quietened, the
// garbage has been collected and the peak RSS reset. It prints every run
// (wall time, records/s, peak RSS as VmHWM and VmRSS sampled every 100ms,
// allocations per record), the medians and their ratio, and in detail the
// last reconciliation: counts, outcome, findings by kind against those the
// data holds, CPU, writes. The first reconciliation opens the findings the
// data holds; the later ones see them again. The database is dropped at
// the end (unless -keep).
//
//	go run ./cmd/reconcilebench -n 1000000
//	go run ./cmd/reconcilebench -scaling                  # 100000 then 1000000, and the ratio of times
//	go run ./cmd/reconcilebench -n 100000 -cpuprofile /tmp/rec.pprof -sql-stats
//	go run ./cmd/reconcilebench -database-url postgres://postgres@db:5432/postgres?sslmode=disable
//
// The emulator runs in this process: its page rendering shows in the CPU
// profiles (package coinflowtest) and in the RSS figures, in the baseline
// as in the run. Targets for 1,000,000: the run within 1.3x the baseline,
// in at most 20 s, at most 150 MB peak RSS; and with -scaling at most 12x
// the 100,000 run's time. It exits 0 whatever the figures (a measurement,
// not a test); setup failures exit 1 and bad flags 2.
package main

import (
	"context"
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

func main() { bench.Main("reconcilebench", run) }

// Targets the run is held to.
const (
	targetBaseline = 1.3  // the run's median time over the baseline's
	targetSeconds  = 20.0 // for 1,000,000 payouts
	targetRSS      = 150 << 20
	targetRatio    = 12.0 // 1M time over 100k time
)

// options is the command line.
type options struct {
	databaseURL  string
	sizes        []int
	cpuProfile   string
	sqlStats     bool
	maxOpenConns int
	pageWorkers  int
	pagesAhead   int
	runs         int
	loadWorkers  int
	history      bool
	timeout      time.Duration
	keep         bool
	verbose      bool
	waitQuiet    time.Duration
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	fs := bench.NewFlagSet("reconcilebench")
	fs.StringVar(&o.databaseURL, "database-url", benchdb.AdminURL(getenv), "PostgreSQL admin URL; each size gets its own database there, dropped at the end")
	n := fs.Int("n", 1_000_000, "payouts (and withdraws) to reconcile")
	scaling := fs.Bool("scaling", false, "run n=100000 and n=1000000 (ignoring -n) and report the ratio of times")
	fs.IntVar(&o.runs, "runs", 3, "baseline and reconciliation runs, alternating, per size")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the last reconciliation (this process: reconciler and emulator) to this file, and of the last baseline to FILE.paging; with -scaling, .<n> after each")
	fs.BoolVar(&o.sqlStats, "sql-stats", false, "time the store's statements during the run, by shape, and print the costliest")
	fs.IntVar(&o.maxOpenConns, "max-open-conns", 16, "database.max_open_conns for the store")
	fs.IntVar(&o.pageWorkers, "page-workers", 0, "pages compared at once (0: the reconciler's default)")
	fs.IntVar(&o.pagesAhead, "pages-ahead", 4, "pages fetched ahead, by the baseline and the reconciler alike")
	fs.IntVar(&o.loadWorkers, "load-workers", 2, "connections copying rows in parallel while loading")
	fs.BoolVar(&o.history, "history", true, "load a completion history row per payout, so that payout_history has a realistic size")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "reconcile.timeout for the run (payoutd's default is 10m)")
	fs.BoolVar(&o.keep, "keep", false, "keep the databases (for EXPLAIN) and print their URLs")
	fs.BoolVar(&o.verbose, "v", false, "show the reconciler's log")
	fs.DurationVar(&o.waitQuiet, "wait-quiet", time.Minute, "before each run, wait up to this long for the machine to be nearly idle (it may be shared)")
	if err := bench.ParseFlags(fs, args); err != nil {
		return o, err
	}
	o.sizes = []int{*n}
	if *scaling {
		o.sizes = []int{100_000, 1_000_000}
	}
	var errs []string
	if *n < 1 {
		errs = append(errs, "-n must be at least 1")
	}
	if o.pageWorkers < 0 {
		errs = append(errs, "-page-workers must not be negative")
	}
	if o.runs < 1 || o.pagesAhead < 1 {
		errs = append(errs, "-runs and -pages-ahead must be at least 1")
	}
	if o.maxOpenConns < 1 || o.loadWorkers < 1 {
		errs = append(errs, "-max-open-conns and -load-workers must be at least 1")
	}
	if o.timeout <= 0 || o.waitQuiet < 0 {
		errs = append(errs, "-timeout must be positive and -wait-quiet not negative")
	}
	if !strings.HasPrefix(o.databaseURL, "postgres://") && !strings.HasPrefix(o.databaseURL, "postgresql://") {
		errs = append(errs, "-database-url must be a postgres:// URL")
	}
	return o, bench.BadFlags(errs)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(args[1:], getenv)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "reconcilebench: "+format+"\n", a...) }
	var results []*result
	for _, n := range o.sizes {
		res, err := benchOnce(ctx, o, n, progress)
		if err != nil {
			return fmt.Errorf("n=%d: %w", n, err)
		}
		report(stdout, res)
		results = append(results, res)
	}
	if len(results) == 2 {
		reportScaling(stdout, results[0], results[1])
	}
	return nil
}
