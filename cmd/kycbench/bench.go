package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/internal/benchdb"
	"github.com/payoutd/payoutd/kyc"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
)

// result is one measured sweep. It travels as JSON from a -sizes child.
type result struct {
	N        int    `json:"n"`
	Approved int    `json:"approved"`
	Unknown  int    `json:"unknown"`
	Database string `json:"database"`
	Emulator string `json:"emulator"`
	CPUs     int    `json:"cpus"`

	Setup       time.Duration `json:"setup"`        // everything before the sweep
	EmuSetup    time.Duration `json:"emu_setup"`    // the emulator's withdrawers
	RecordSetup time.Duration `json:"record_setup"` // payoutd's pending withdrawers
	LoadBefore  float64       `json:"load_before"`  // machine load (cores) in the second before the sweep

	Took     time.Duration               `json:"took"`      // the sweep, wall clock
	Slept    time.Duration               `json:"slept"`     // Coinflow (emulator) time the follower waited
	Sweep    kyc.SweepResult             `json:"sweep"`     // what it says it did
	SweepErr string                      `json:"sweep_err"` // its error, if any
	Limits   coinflowtest.RateLimitStats `json:"limits"`
	// PendingAfter is what the database holds as pending afterwards.
	PendingAfter int64 `json:"pending_after"`

	RSSBase   int64  `json:"rss_base"`   // VmRSS after setup and a GC
	RSSPeak   int64  `json:"rss_peak"`   // VmHWM after the sweep (reset after setup when HWMReset)
	HWMReset  bool   `json:"hwm_reset"`  // clear_refs accepted
	RSSSample int64  `json:"rss_sample"` // largest VmRSS sampled during the sweep
	EmuRSS    int64  `json:"emu_rss"`    // the emulator process's VmRSS after the sweep (-emulator process)
	HeapBase  uint64 `json:"heap_base"`  // Go heap objects (live and not yet swept) before the sweep
	HeapPeak  uint64 `json:"heap_peak"`  // largest sampled during it
	LiveBase  uint64 `json:"live_base"`  // live heap marked by the last GC before the sweep
	LivePeak  uint64 `json:"live_peak"`  // largest marked by a GC during it
	GCs       uint32 `json:"gcs"`
	Alloc     uint64 `json:"alloc"` // bytes allocated during the sweep
}

// Added is what the sweep added to the process's RSS.
func (r *result) Added() int64 { return max(r.RSSPeak, r.RSSSample) - r.RSSBase }

// problems is an error naming what went wrong in the sweep: the limits
// broken, a sweep error, or counts that are not what the data holds.
func (r *result) problems() error {
	var errs []error
	if r.SweepErr != "" {
		errs = append(errs, fmt.Errorf("sweep failed: %s", r.SweepErr))
	}
	l := r.Limits
	if l.Throttled != 0 || r.Sweep.Throttled != 0 {
		errs = append(errs, fmt.Errorf("LIMITS BROKEN: Coinflow answered 429 %d times (follower saw %d)", l.Throttled, r.Sweep.Throttled))
	}
	if l.MaxKYCPerMinute > coinflowtest.KYCRateLimit {
		errs = append(errs, fmt.Errorf("LIMITS BROKEN: %d KYC calls in one minute, limit %d", l.MaxKYCPerMinute, coinflowtest.KYCRateLimit))
	}
	if l.MaxNotFoundPer10s > coinflowtest.NotFoundRateLimit {
		errs = append(errs, fmt.Errorf("LIMITS BROKEN: %d not-found answers in 10 s, limit %d", l.MaxNotFoundPer10s, coinflowtest.NotFoundRateLimit))
	}
	if r.Sweep.Changed != int64(r.Approved) {
		errs = append(errs, fmt.Errorf("WRONG: %d withdrawers changed, %d were approved at Coinflow", r.Sweep.Changed, r.Approved))
	}
	if r.Sweep.LookedUp != int64(r.Unknown) || r.Sweep.NotFound != int64(r.Unknown) {
		errs = append(errs, fmt.Errorf("WRONG: %d lookups (%d not found), want %d unknown to Coinflow", r.Sweep.LookedUp, r.Sweep.NotFound, r.Unknown))
	}
	if want := int64(r.N - r.Approved + r.Unknown); r.PendingAfter != want {
		errs = append(errs, fmt.Errorf("WRONG: %d withdrawers pending after the sweep, want %d", r.PendingAfter, want))
	}
	return errors.Join(errs...)
}

// clock is payoutd's clock, moved by the follower's Sleep.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// benchOnce sets up and measures one sweep.
func benchOnce(ctx context.Context, o options, progress func(string, ...any)) (res *result, err error) {
	res = &result{N: o.n, Approved: approvedCount(o), Unknown: o.unknown, Emulator: o.emulator, CPUs: runtime.NumCPU()}
	began := time.Now()
	clk := &clock{t: start}
	store, cleanup, err := openStore(ctx, o, clk, res)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, cleanup()) }()

	// The emulator and payoutd's records are set up side by side.
	var (
		emu    coinflowSide
		emuErr error
		emuWG  sync.WaitGroup
	)
	emuWG.Go(func() {
		t := time.Now()
		if o.emulator == emulatorProcess {
			var c *childProcess
			c, res.EmuSetup, emuErr = startChild(ctx, o, os.Stderr)
			if emuErr == nil {
				emu = c
			}
			return
		}
		var srv *coinflowtest.Server
		if srv, emuErr = newEmulator(o); emuErr == nil {
			emu = inProcess{srv}
		}
		res.EmuSetup = time.Since(t)
	})
	t := time.Now()
	recErr := recordPending(ctx, o, store, clk)
	res.RecordSetup = time.Since(t)
	emuWG.Wait()
	if emu != nil {
		defer func() { err = errors.Join(err, emu.Close()) }()
	}
	if err := errors.Join(emuErr, recErr); err != nil {
		return nil, err
	}
	if err := settle(ctx, store); err != nil {
		return nil, err
	}
	progress("n=%d: emulator %s (%d withdrawers, %d approved), payoutd %s (%d pending, %d unknown to Coinflow)",
		o.n, res.EmuSetup.Round(time.Millisecond), o.n, res.Approved, res.RecordSetup.Round(time.Millisecond), o.n+o.unknown, o.unknown)

	// The sweep runs sweepAfter the registrations, on both clocks.
	clk.Advance(sweepAfter)
	if err := emu.Advance(ctx, sweepAfter); err != nil {
		return nil, err
	}
	follower, err := newFollower(o, store, emu, clk, res)
	if err != nil {
		return nil, err
	}
	res.Setup = time.Since(began)

	res.LoadBefore = waitQuiet(ctx, o.waitQuiet, progress)
	progress("n=%d: sweeping", o.n)
	m := measure(o.memProfile)
	sweep, sweepErr := follower.Sweep(ctx)
	m.finish(res)
	res.Sweep = sweep
	if sweepErr != nil {
		res.SweepErr = sweepErr.Error()
	}
	if res.Limits, err = emu.Stats(ctx); err != nil {
		return nil, err
	}
	res.EmuRSS = emu.RSS()
	if res.PendingAfter, err = store.WithdrawerCountPending(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// openStore opens a fresh migrated database: an SQLite file in a temporary
// directory, or a new PostgreSQL database on -database-url's server.
func openStore(ctx context.Context, o options, clk *clock, res *result) (*models.Store, func() error, error) {
	var (
		url   string
		drop  func() error
		clean = func() error { return nil }
	)
	if o.databaseURL == "" {
		dir, err := os.MkdirTemp("", "kycbench-")
		if err != nil {
			return nil, nil, err
		}
		url, res.Database = "sqlite:"+filepath.Join(dir, "payoutd.db"), "sqlite"
		drop = func() error { return os.RemoveAll(dir) }
	} else {
		db, err := benchdb.Create(ctx, o.databaseURL, "kycbench")
		if err != nil {
			return nil, nil, err
		}
		url, res.Database = db.URL, "postgres"
		drop = db.Drop
	}
	store, err := models.Open(ctx, models.Options{URL: url, NowFunc: clk.Now, MaxOpenConns: 16})
	if err != nil {
		return nil, nil, errors.Join(err, drop())
	}
	clean = func() error { return errors.Join(store.Close(), drop()) }
	if _, err := store.Migrate(ctx); err != nil {
		return nil, nil, errors.Join(err, clean())
	}
	return store, clean, nil
}

// recordPending records every withdrawer, known to Coinflow or not, as
// registration does: pending, with its hosted verification link, first
// checked a minute later (onboard.Register), a transaction per o.batch.
func recordPending(ctx context.Context, o options, store *models.Store, clk *clock) error {
	ids := make([]string, 0, o.batch)
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		err := store.Tx(ctx, func(tx *models.Store) error {
			for _, id := range ids {
				blocked := false
				v := decide.Verification{
					Source: models.SourceAPI, At: clk.Now(), UserID: id, Status: models.VerificationPending, Blocked: &blocked,
					Wallet: coinflowtest.DefaultMerchantID + "ʬ" + id, Blockchain: "solana", EmailMasked: models.MaskEmail(id + "@example.com"),
					Country: "DE", Currency: "EUR", Link: "https://in.sumsub.com/websdk/p/kb_" + id,
				}
				if _, err := onboard.Record(ctx, tx, v, nil); err != nil {
					return err
				}
			}
			return tx.WithdrawerScheduleMany(ctx, ids, clk.Now().Add(time.Minute))
		})
		ids = ids[:0]
		return err
	}
	add := func(id string) error {
		ids = append(ids, id)
		if len(ids) == o.batch {
			return flush()
		}
		return nil
	}
	for i := range o.n {
		if err := add(knownID(i)); err != nil {
			return fmt.Errorf("record pending: %w", err)
		}
	}
	for j := range o.unknown {
		if err := add(unknownID(o, j)); err != nil {
			return fmt.Errorf("record pending: %w", err)
		}
	}
	if err := flush(); err != nil {
		return fmt.Errorf("record pending: %w", err)
	}
	return nil
}

// settle leaves the database as a server that has run for a while would
// be: on PostgreSQL the tables analysed and setup's WAL checkpointed, so
// that the sweep neither plans without statistics nor pays for setup's
// checkpoint; on SQLite the WAL checkpointed into the database file.
func settle(ctx context.Context, store *models.Store) error {
	db := store.DB().WithContext(ctx)
	if store.Dialect() == models.DialectSQLite {
		return db.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error
	}
	if err := db.Exec("VACUUM ANALYZE withdrawers, withdrawer_history").Error; err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	if err := db.Exec("CHECKPOINT").Error; err != nil {
		return fmt.Errorf("checkpoint (needs superuser or pg_checkpoint): %w", err)
	}
	return nil
}

// newFollower wires the follower as payoutd's wiring.go does (its own
// client that never retries, the onboard service on it, payoutd's default
// intervals), with a Sleep that moves both clocks instead of waiting.
func newFollower(o options, store *models.Store, emu coinflowSide, clk *clock, res *result) (*kyc.Follower, error) {
	cf, err := coinflow.New(coinflow.Config{BaseURL: emu.URL(), APIKey: benchAPIKey, MaxAttempts: 1})
	if err != nil {
		return nil, err
	}
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	if o.verbose {
		logger.SetOutput(os.Stderr)
	}
	log := logger.WithField("component", "kyc")
	ob, err := onboard.New(store, cf, log, onboard.Config{FirstCheck: time.Minute})
	if err != nil {
		return nil, err
	}
	return kyc.New(store, cf, ob, log, kyc.Config{Base: time.Minute, Max: time.Hour,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			clk.Advance(d)
			res.Slept += d
			return emu.Advance(ctx, d)
		}})
}

// waitQuiet waits up to limit for the machine to be nearly idle, saying so
// at most every 15s, and returns the load of the last second it watched.
func waitQuiet(ctx context.Context, limit time.Duration, progress func(string, ...any)) float64 {
	if limit == 0 {
		return -1
	}
	var said time.Time
	return bench.WaitQuiet(ctx, limit, func(load float64, left time.Duration) {
		if time.Since(said) >= 15*time.Second {
			progress("machine busy (%.2f cores) before the sweep; waiting up to %s more for it to quieten", load, left.Round(time.Second))
			said = time.Now()
		}
	})
}

// clearGarbage collects setup's garbage and returns freed memory to the
// OS, so that the baseline is what setup left live.
func clearGarbage() {
	runtime.GC()
	debug.FreeOSMemory()
}
