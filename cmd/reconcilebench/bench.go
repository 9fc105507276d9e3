package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/internal/benchdb"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
)

const (
	benchAPIKey       = "reconcilebench-api-key"
	benchBalanceCents = 100_000_000_000
	benchPageSize     = 100 // the emulator's most
)

// result is one measured run.
type result struct {
	n        int
	database string
	load     loadStats
	loaded   time.Duration // everything before the run: create, migrate, load

	took    time.Duration
	run     *models.ReconcileRun
	runErr  error
	cpu     bench.CPUUsage
	before  float64 // machine load (cores) in the second before the run
	peakRSS int64   // VmHWM after the run (reset before it when hwmReset)
	hwmSet  bool
	rssBase int64 // VmRSS just before the run
	rssMax  int64 // sampled VmRSS
	rssMean int64
	samples int
	alloc   uint64 // bytes allocated during the run
	mallocs uint64
	gcs     uint32

	findings       map[models.FindingKind]int64
	wantAmounts    int
	wantStatuses   int
	historyWritten int64 // payout_history rows the run added
	dbBefore       dbStats
	dbAfter        dbStats
	wal            int64 // bytes of WAL written during the run (by every database on the server)
	listCalls      int
	cpuProfile     string
	sql            *sqlStats
}

// benchOnce measures one reconciliation run over n payouts on a database
// of its own, dropped at the end.
func benchOnce(ctx context.Context, o options, n int, progress func(string, ...any)) (res *result, err error) {
	res = &result{n: n}
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
		PageSize: benchPageSize, Timeout: o.timeout, PageWorkers: o.pageWorkers,
	})
	if err != nil {
		return nil, err
	}
	res.loaded = time.Since(began)

	// What the run changes, and what it costs: the garbage of loading is
	// collected and the peak reset first, so the figures are the run's.
	res.before = waitQuiet(ctx, o.waitQuiet, progress)
	runtime.GC()
	debug.FreeOSMemory()
	res.hwmSet = resetPeakRSS()
	if st, err := bench.ProcStatus(os.Getpid(), "VmRSS"); err == nil {
		res.rssBase = st["VmRSS"]
	}
	if res.dbBefore, err = readDBStats(ctx, db.URL); err != nil {
		return nil, err
	}
	var msBefore runtime.MemStats
	runtime.ReadMemStats(&msBefore)
	var stats *sqlStats
	if o.sqlStats {
		if stats, err = watchSQL(store); err != nil {
			return nil, err
		}
	}
	stopProfile := func() {}
	if path := profilePath(o, n); path != "" {
		if stopProfile, err = startCPUProfile(path); err != nil {
			return nil, err
		}
		res.cpuProfile = path
	}
	progress("n=%d: reconciling (page size %d)", n, benchPageSize)
	sampler := sampleRSS(100 * time.Millisecond)
	cpuBefore := bench.ReadCPU(db.Name)
	start := time.Now()
	res.run, res.runErr = rec.RunOnce(ctx, "cli")
	res.took = time.Since(start)
	res.cpu = bench.ReadCPU(db.Name).Since(cpuBefore)
	stopProfile()
	if stats != nil {
		stats.stop()
		res.sql = stats
	}
	res.rssMax, res.rssMean, res.samples = sampler.finish()
	var msAfter runtime.MemStats
	runtime.ReadMemStats(&msAfter)
	res.alloc, res.mallocs, res.gcs = msAfter.TotalAlloc-msBefore.TotalAlloc, msAfter.Mallocs-msBefore.Mallocs, msAfter.NumGC-msBefore.NumGC
	if st, err := bench.ProcStatus(os.Getpid(), "VmHWM"); err == nil {
		res.peakRSS = st["VmHWM"]
	}
	res.listCalls = srv.Calls(coinflowtest.OpListWithdraws)

	if res.findings, err = store.FindingCountOpen(ctx); err != nil {
		return res, err
	}
	if err := store.DB().WithContext(ctx).Raw("SELECT COUNT(*) FROM payout_history WHERE source = ?", models.SourceReconcile).
		Row().Scan(&res.historyWritten); err != nil {
		return res, fmt.Errorf("count history rows: %w", err)
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

func profilePath(o options, n int) string {
	switch {
	case o.cpuProfile == "":
		return ""
	case len(o.sizes) > 1:
		return fmt.Sprintf("%s.%d", o.cpuProfile, n)
	}
	return o.cpuProfile
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
