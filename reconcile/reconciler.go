// Package reconcile compares payoutd's record with Coinflow's on every axis
// the merchant cares about: payouts and their statuses and amounts, the
// requested against the effective speed, payouts stuck past their delivery
// window, withdrawers' verification, and the wallet balance. It heals local
// state where Coinflow is simply ahead (a missed webhook) and records the
// rest as findings, one per kind and subject.
//
// A run that cannot see all of Coinflow ends partial: it raises nothing it
// could not prove (no missing_at_coinflow, no wallet_drift) and resolves
// nothing of the kinds it could not check in full.
package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// Config tunes the checks. Zero values take the defaults in New.
type Config struct {
	// Lookback is how far back each run compares withdraws (by creation).
	// It is also the return window: a completed payout stays watched this
	// long, so a bank return is caught. Default 35 days.
	Lookback time.Duration
	// Overlap reaches back before the last successful run's start when
	// that is older than Lookback (payoutd was down). Default 1h.
	Overlap time.Duration
	// MissingGrace is how long a payout recorded here may be absent from
	// Coinflow's list before it is missing_at_coinflow. Default 30m.
	MissingGrace time.Duration
	// PageSize is the withdraws page size (Coinflow's documented maximum is
	// unknown; the emulator's is 100). Default 100.
	PageSize int
	// Windows are the delivery windows a payout is held to when Coinflow
	// gave no expected delivery date. Zero fields take rail's defaults:
	// instant rails 30m, standard ACH 3 business days, iban, eft and wire
	// 2; same-day ACH is due by the end of its business day.
	Windows rail.Windows
	// StuckGrace is added to every delivery deadline. Default 15m.
	StuckGrace time.Duration
	// KYCStallAfter is how long a withdrawer may stay pending verification
	// before kyc_stalled is raised. Default 72h.
	KYCStallAfter time.Duration
	// LowBalanceCents is the wallet floor (0: none).
	LowBalanceCents int64
	// DriftToleranceCents is how much unexplained wallet movement is let
	// pass. Default 0.
	DriftToleranceCents int64
	// PageWorkers is how many pages of withdraws are compared at once, each
	// in its own transaction, while the next pages are fetched. Default: a
	// quarter of the database pool, at most 4, so that webhook commits and
	// the API keep connections during a run (1 on SQLite, whose one
	// connection gains nothing from more).
	PageWorkers int
	// PagesAhead is how many pages of withdraws are fetched from Coinflow
	// ahead of the one being handed to the comparison, once the list has
	// shown that many pages (coinflow.ListWithdrawsParams.Ahead). Default
	// 4. The pages held at once are at most PagesAhead + 2*PageWorkers + 1.
	PagesAhead int
	// MaxConfirmations bounds single gets used to confirm a payout absent
	// from the list before calling it missing. Default 200.
	MaxConfirmations int
	// Timeout bounds one run. Default 10m.
	Timeout time.Duration
	// DegradedAfter is how many runs in a row must end partial or failed
	// before the reconciler reports itself degraded. Default 3.
	DegradedAfter int
	// WebhookURL, when set, limits the webhook_undelivered check to
	// deliveries to this URL; "" takes every URL of the merchant's webhook
	// activity (see undelivered.go).
	WebhookURL string
	// MaxResends bounds the resends one run asks Coinflow for (default
	// 10), ResendPace is the wait between two of them (default 1s: with
	// the other calls of a run, well under Coinflow's ~100 calls a minute),
	// and ResendBackoff is how long an event resent before waits before
	// it is asked for again (default 1h).
	MaxResends    int
	ResendPace    time.Duration
	ResendBackoff time.Duration
	// AfterRunFunc, when set, is called with every run once it is
	// recorded, however it was started (schedule, API, CLI): alerting uses
	// it to announce the run's findings at once rather than at its next
	// tick.
	AfterRunFunc func(run *models.ReconcileRun)
}

// ErrBusy is returned when a run is already going in this process.
var ErrBusy = errors.New("a reconciliation run is already going")

// Reconciler runs the checks.
type Reconciler struct {
	store   *models.Store
	cf      *coinflow.Client
	log     *logrus.Entry
	metrics *metrics.Reconcile
	cfg     Config

	// beforePage, when set (by tests only), is called as a page's
	// comparison begins, with its place in the stream.
	beforePage func(seq uint32)

	mu       sync.Mutex // one run at a time in this process
	stateMu  sync.Mutex
	failures int
	degraded bool
}

// New returns a reconciler; zero fields of cfg take their defaults, and a
// negative one is an error. m may be nil (no metrics).
func New(store *models.Store, cf *coinflow.Client, log *logrus.Entry, m *metrics.Reconcile, cfg Config) (*Reconciler, error) {
	var errs []error
	for name, d := range map[string]time.Duration{
		"Lookback": cfg.Lookback, "Overlap": cfg.Overlap, "MissingGrace": cfg.MissingGrace,
		"StuckGrace": cfg.StuckGrace, "Timeout": cfg.Timeout, "KYCStallAfter": cfg.KYCStallAfter,
	} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("reconcile: %s is negative", name))
		}
	}
	for name, n := range map[string]int{
		"PageSize": cfg.PageSize, "PageWorkers": cfg.PageWorkers, "PagesAhead": cfg.PagesAhead, "MaxConfirmations": cfg.MaxConfirmations,
		"DegradedAfter": cfg.DegradedAfter,
	} {
		if n < 0 {
			errs = append(errs, fmt.Errorf("reconcile: %s is negative", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.Lookback = cmp.Or(cfg.Lookback, 35*24*time.Hour)
	cfg.Overlap = cmp.Or(cfg.Overlap, time.Hour)
	cfg.MissingGrace = cmp.Or(cfg.MissingGrace, 30*time.Minute)
	cfg.StuckGrace = cmp.Or(cfg.StuckGrace, 15*time.Minute)
	cfg.KYCStallAfter = cmp.Or(cfg.KYCStallAfter, 72*time.Hour)
	cfg.Timeout = cmp.Or(cfg.Timeout, 10*time.Minute)
	cfg.PageSize = cmp.Or(cfg.PageSize, coinflow.DefaultPageLimit)
	cfg.Windows = cfg.Windows.WithDefaults()
	cfg.PageWorkers = cmp.Or(cfg.PageWorkers, min(4, max(1, store.MaxOpenConns()/4)))
	cfg.PagesAhead = cmp.Or(cfg.PagesAhead, 4)
	cfg.MaxConfirmations = cmp.Or(cfg.MaxConfirmations, 200)
	cfg.DegradedAfter = cmp.Or(cfg.DegradedAfter, 3)
	return &Reconciler{store: store, cf: cf, log: log, metrics: m, cfg: cfg}, nil
}

// RunOnce runs every check now and returns the finished run.
func (r *Reconciler) RunOnce(ctx context.Context, trigger string) (*models.ReconcileRun, error) {
	if !r.mu.TryLock() {
		return nil, ErrBusy
	}
	defer r.mu.Unlock()
	run, err := r.store.RunCreate(ctx, trigger)
	if err != nil {
		return nil, err
	}
	r.execute(ctx, run)
	return run, nil
}

// Start begins a run in the background and returns it as recorded (running).
func (r *Reconciler) Start(ctx context.Context, trigger string) (*models.ReconcileRun, error) {
	if !r.mu.TryLock() {
		return nil, ErrBusy
	}
	run, err := r.store.RunCreate(ctx, trigger)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	snapshot := *run
	go func() {
		defer r.mu.Unlock()
		r.execute(context.WithoutCancel(ctx), run)
	}()
	return &snapshot, nil
}

// runState is what one run accumulates. Pages are compared concurrently,
// so counts and problems are behind mu.
type runState struct {
	run   *models.ReconcileRun
	now   time.Time
	since time.Time
	seen  *seenSet // payouts seen at Coinflow

	mu       sync.Mutex
	counts   map[string]int64
	problems map[string]string
	local    bool // a local (database) error happened
}

func (st *runState) add(counter string, n int64) {
	st.mu.Lock()
	st.counts[counter] += n
	st.mu.Unlock()
}

func (st *runState) problem(check string, err error, local bool) {
	st.mu.Lock()
	st.problems[check] = err.Error()
	st.local = st.local || local
	st.mu.Unlock()
}

func (r *Reconciler) execute(ctx context.Context, run *models.ReconcileRun) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	start := time.Now()
	st := &runState{run: run, now: r.store.Now(), counts: map[string]int64{}, problems: map[string]string{}, seen: newSeenSet()}
	st.since = st.now.Add(-r.cfg.Lookback)
	if last, err := r.store.RunLastOK(ctx); err == nil && last.StartedAt.Add(-r.cfg.Overlap).Before(st.since) {
		st.since = last.StartedAt.Add(-r.cfg.Overlap)
	}
	// A copy: a pointer into st would keep the whole run's state (the
	// seen set: 40 MB a million payouts) alive as long as the run is.
	since := st.since
	run.WindowSince = &since
	log := r.log.WithField("run_id", run.ID)

	// The balance is read before the withdraws are listed: a payout made
	// after the read is then both outside this balance and (by its creation
	// time) outside this interval, so it cannot look like drift.
	bal := r.readBalance(ctx, st)
	payoutsComplete := r.checkPayouts(ctx, st)
	r.checkSpeeds(ctx, st)
	r.checkStuck(ctx, st)
	r.checkWithdrawers(ctx, st)
	r.checkWallet(ctx, st, bal, payoutsComplete)
	r.checkHeaderAuth(ctx, st)
	r.checkUndelivered(ctx, st)

	switch {
	case len(st.problems) == 0:
		run.Outcome = models.RunOK
	case st.local && len(st.counts) == 0:
		run.Outcome = models.RunFailed
	default:
		run.Outcome = models.RunPartial
	}
	run.Counts = models.Details{}
	for k, v := range st.counts {
		run.Counts[k] = v
	}
	run.Problems = models.Details{}
	for k, v := range st.problems {
		run.Problems[k] = v
	}
	if err := r.store.RunFinish(context.WithoutCancel(ctx), run); err != nil {
		log.WithError(err).Error("record reconciliation run")
	}
	r.observe(run, time.Since(start), log)
	if r.cfg.AfterRunFunc != nil {
		r.cfg.AfterRunFunc(run)
	}
}

// observe updates metrics and raises the degraded signal once when runs
// keep failing, rather than a log line per run.
func (r *Reconciler) observe(run *models.ReconcileRun, took time.Duration, log *logrus.Entry) {
	if r.metrics != nil {
		r.metrics.Runs.WithLabelValues(run.Outcome).Inc()
		r.metrics.Duration.Observe(took.Seconds())
		if run.Outcome == models.RunOK {
			r.metrics.LastSuccess.Set(float64(time.Now().Unix()))
		}
	}
	entry := log.WithFields(logrus.Fields{"outcome": run.Outcome, "duration_ms": took.Milliseconds()})
	for k, v := range run.Counts {
		entry = entry.WithField(k, v)
	}
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	if run.Outcome == models.RunOK {
		r.failures = 0
		if r.degraded {
			r.degraded = false
			log.Info("reconciler recovered")
		}
		r.setDegraded(0)
		entry.Info("reconciliation run")
		return
	}
	r.failures++
	entry.WithField("problems", run.Problems).Warn("reconciliation run incomplete")
	if r.failures >= r.cfg.DegradedAfter && !r.degraded {
		r.degraded = true
		r.setDegraded(1)
		log.WithField("runs", r.failures).Error("reconciler degraded: runs keep ending partial or failed")
	}
}

func (r *Reconciler) setDegraded(v float64) {
	if r.metrics != nil {
		r.metrics.Degraded.Set(v)
	}
}

// raise records a finding seen by this run.
func (r *Reconciler) raise(ctx context.Context, store *models.Store, st *runState, f models.Finding) error {
	_, err := raiseCounted(ctx, store, st.run.ID, st.add, f)
	return err
}

// raiseCounted records a finding seen by run runID, counts it with add,
// and reports whether it opened the finding. Inside a transaction that may
// be retried, add must count into that attempt, not the run.
func raiseCounted(ctx context.Context, store *models.Store, runID string, add func(string, int64), f models.Finding) (bool, error) {
	f.LastRunID = &runID
	_, opened, err := store.FindingRaise(ctx, f)
	if err != nil {
		return false, err
	}
	add("findings_raised", 1)
	if opened {
		add("findings_opened", 1)
	}
	return opened, nil
}

func (r *Reconciler) resolved(st *runState, n int64, err error, check string) {
	if err != nil {
		st.problem(check, err, true)
		return
	}
	st.add("findings_resolved", n)
}
