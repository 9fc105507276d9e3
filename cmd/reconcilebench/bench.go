package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/benchdb"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

const (
	benchAPIKey       = "reconcilebench-api-key"
	benchBalanceCents = 100_000_000_000
	benchPageSize     = 100                 // the emulator's most
	benchLookback     = 35 * 24 * time.Hour // reconcile's default, over the whole dataset
)

// result is one size measured: the paging baseline and the
// reconciliation, alternating, runs times each.
type result struct {
	n        int
	database string
	load     loadStats
	loaded   time.Duration // everything before the runs: create, migrate, load
	ahead    int           // pages fetched ahead, by both

	paging []sample // the client paging through the withdraws alone
	recon  []sample // reconcile.Reconciler.RunOnce
	err    error    // what ended the runs early

	// The last reconciliation run in detail.
	run            *models.ReconcileRun
	findings       map[models.FindingKind]int64
	wantAmounts    int
	wantStatuses   int
	historyWritten int64 // payout_history rows the run added; -1 when they could not be counted
	dbBefore       dbStats
	dbAfter        dbStats
	wal            int64 // bytes of WAL written during the run (by every database on the server)
	listCalls      int
	cpuProfile     string // of the last reconciliation
	pagingProfile  string // of the last baseline
	sql            *sqlStats
}

// benchOnce measures n payouts on a database of its own, dropped at the
// end: o.runs times the client paging through the withdraws alone, then a
// reconciliation run, in turn.
func benchOnce(ctx context.Context, o options, n int, progress func(string, ...any)) (res *result, err error) {
	res = &result{n: n, ahead: o.pagesAhead}
	began := time.Now()
	db, err := benchdb.Create(ctx, o.databaseURL, "reconcilebench")
	if err != nil {
		return nil, err
	}
	res.database = db.Name
	if o.keep {
		progress("keeping database %s", db.URL)
	} else {
		defer db.DropJoin(&err)
	}
	store, err := models.Open(ctx, models.Options{URL: db.URL, MaxOpenConns: o.maxOpenConns})
	if err != nil {
		return nil, err
	}
	closed := false
	closeStore := func() {
		if !closed {
			closed = true
			_ = store.Close()
		}
	}
	defer closeStore()
	if _, err := store.Migrate(ctx); err != nil {
		return nil, err
	}

	now := time.Now().UTC()
	d := newDataset(n, now)
	res.wantAmounts, res.wantStatuses = d.expected()
	progress("n=%d: loading payouts created %s .. %s (every %s)", n, d.start.Format(time.RFC3339), d.start.Add(time.Duration(n-1)*d.step).Format(time.RFC3339), d.step)
	if res.load, err = load(ctx, db.URL, d, o.loadWorkers, o.history, progress); err != nil {
		return nil, err
	}
	if err := seedPreviousSnapshot(ctx, db.URL, benchBalanceCents, now.Add(-5*time.Minute)); err != nil {
		return nil, err
	}

	srv := coinflowtest.NewServer(coinflowtest.Options{APIKey: benchAPIKey, InitialBalanceCents: benchBalanceCents, Start: now})
	defer srv.Close()
	srv.SeedSynthetic(n, d.withdraw)
	cf, err := coinflow.New(coinflow.Config{BaseURL: srv.URL, APIKey: benchAPIKey})
	if err != nil {
		return nil, err
	}
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	if o.verbose {
		logger.SetOutput(os.Stderr)
	}
	rec, err := reconcile.New(store, cf, logger.WithField("component", "reconcile"), nil, reconcile.Config{
		PageSize: benchPageSize, Timeout: o.timeout, PageWorkers: o.pageWorkers, PagesAhead: o.pagesAhead, Lookback: benchLookback,
	})
	if err != nil {
		return nil, err
	}
	res.loaded = time.Since(began)

	for i := range o.runs {
		last := i == o.runs-1
		progress("n=%d: run %d of %d: paging (page size %d, %d ahead)", n, i+1, o.runs, benchPageSize, o.pagesAhead)
		var read int
		pagingProfile := profilePath(o, n, "paging", last)
		pg, err := timed(ctx, o, db.Name, pagingProfile, progress, func() error {
			var err error
			read, err = page(ctx, cf, time.Now().Add(-benchLookback), o.pagesAhead)
			return err
		})
		if err == nil && read != n {
			err = fmt.Errorf("paging read %d withdraws, want %d", read, n)
		}
		if err != nil {
			res.err = fmt.Errorf("paging: %w", err)
			return res, nil
		}
		res.paging = append(res.paging, pg)

		progress("n=%d: run %d of %d: reconciling", n, i+1, o.runs)
		var stats *sqlStats
		if last {
			if res.dbBefore, err = readDBStats(ctx, db.URL); err != nil {
				return nil, err
			}
			if stats, err = startSQLStats(o, store); err != nil {
				return nil, err
			}
		}
		calls, history := srv.Calls(coinflowtest.OpListWithdraws), countHistory(ctx, store)
		profile := profilePath(o, n, "", last)
		rc, err := timed(ctx, o, db.Name, profile, progress, func() error {
			var err error
			res.run, err = rec.RunOnce(ctx, "cli")
			return err
		})
		if err != nil {
			res.err = fmt.Errorf("reconciliation: %w", err)
			return res, nil
		}
		res.recon = append(res.recon, rc)
		if last {
			res.cpuProfile, res.pagingProfile, res.sql = profile, pagingProfile, stats
			if stats != nil {
				stats.stop()
			}
			res.listCalls = srv.Calls(coinflowtest.OpListWithdraws) - calls
			if after := countHistory(ctx, store); after >= 0 && history >= 0 {
				res.historyWritten = after - history
			} else {
				res.historyWritten = -1 // could not be counted; -1 as countHistory says
			}
		}
	}

	if res.findings, err = store.FindingCountOpen(ctx); err != nil {
		return res, err
	}
	// The store's backends report their last counters as they exit.
	closeStore()
	if err := waitBackendsGone(ctx, db.URL, 10*time.Second); err != nil {
		return res, err
	}
	if res.dbAfter, err = readDBStats(ctx, db.URL); err != nil {
		return res, err
	}
	if res.wal, err = walBetween(ctx, db.URL, res.dbBefore, res.dbAfter); err != nil {
		return res, err
	}
	return res, nil
}

// page reads every withdraw a reconciliation reads, as it reads them (the
// same window, page size and pages ahead), and does nothing with them: the
// floor a run's time is held to. It returns how many it read.
func page(ctx context.Context, cf *coinflow.Client, since time.Time, ahead int) (int, error) {
	n := 0
	for ws, err := range cf.WithdrawPages(ctx, coinflow.ListWithdrawsParams{Since: since, Limit: benchPageSize, Ahead: ahead}) {
		if err != nil {
			return n, err
		}
		n += len(ws)
	}
	return n, nil
}

// countHistory counts the payout_history rows reconciliation wrote; -1
// when it cannot.
func countHistory(ctx context.Context, store *models.Store) int64 {
	var n int64
	if err := store.DB().WithContext(ctx).Raw("SELECT COUNT(*) FROM payout_history WHERE source = ?", models.SourceReconcile).
		Row().Scan(&n); err != nil {
		return -1
	}
	return n
}

func startSQLStats(o options, store *models.Store) (*sqlStats, error) {
	if !o.sqlStats {
		return nil, nil
	}
	return watchSQL(store)
}

// profilePath is where the CPU profile of a run goes: only the last run of
// each kind is profiled, the reconciliation to -cpuprofile and the paging
// to -cpuprofile.paging (.<n> after each with -scaling).
func profilePath(o options, n int, kind string, last bool) string {
	if o.cpuProfile == "" || !last {
		return ""
	}
	path := o.cpuProfile
	if kind != "" {
		path += "." + kind
	}
	if len(o.sizes) > 1 {
		path = fmt.Sprintf("%s.%d", path, n)
	}
	return path
}

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
