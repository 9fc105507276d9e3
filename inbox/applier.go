// Package inbox applies the webhooks the webhook endpoint stored: it claims
// them in batches, decodes each strictly into evidence (decode.go), and has
// package decide say what the evidence does to payouts and withdrawers, in
// the same transaction that marks the event done. An event is applied
// exactly once.
package inbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// ApplierConfig tunes the applier.
type ApplierConfig struct {
	BatchSize int // events claimed per transaction (default 100)
	// Workers is how many appliers Run starts (default 1). They share the
	// inbox through FOR UPDATE SKIP LOCKED, so on PostgreSQL one decides
	// its batch while another waits on the database; SQLite has one
	// writer, so more than one there only queues.
	Workers      int
	PollInterval time.Duration // how often to look for work nobody announced (default 500ms)
	MaxAttempts  int           // failed applies before an event is parked (default 8)
	BaseBackoff  time.Duration // first retry delay, doubled per attempt (default 1s)
	MaxBackoff   time.Duration // retry delay cap (default 5m)
	NowFunc      func() time.Time
}

// Applier takes committed webhooks off the inbox and applies them to payouts
// and withdrawers. Each batch is one transaction: the events are claimed
// (FOR UPDATE SKIP LOCKED on PostgreSQL, so several processes can share an
// inbox), each is applied inside its own savepoint, and each is marked done
// in the same transaction as its effects, so an event is applied exactly
// once. An event that fails is rescheduled with backoff without holding up
// the events behind it, and parked with a finding after MaxAttempts.
type Applier struct {
	store   *models.Store
	log     *logrus.Entry
	metrics *metrics.Metrics
	cfg     ApplierConfig
	wake    []chan struct{} // one per worker
	cache   *parsedCache
}

// NewApplier returns an applier; Run starts it.
func NewApplier(store *models.Store, log *logrus.Entry, m *metrics.Metrics, cfg ApplierConfig) (*Applier, error) {
	if cfg.BatchSize < 0 || cfg.Workers < 0 || cfg.PollInterval < 0 || cfg.MaxAttempts < 0 || cfg.BaseBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, errors.New("applier: a negative setting")
	}
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 100)
	cfg.Workers = cmp.Or(cfg.Workers, 1)
	cfg.PollInterval = cmp.Or(cfg.PollInterval, 500*time.Millisecond)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, 8)
	cfg.BaseBackoff = cmp.Or(cfg.BaseBackoff, time.Second)
	cfg.MaxBackoff = cmp.Or(cfg.MaxBackoff, 5*time.Minute)
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	// The cache holds what the endpoint decoded until it is applied: a
	// few batches' worth covers a backlog being worked off.
	a := &Applier{
		store: store, log: log, metrics: m, cfg: cfg, wake: make([]chan struct{}, cfg.Workers),
		cache: newParsedCache(max(64*cfg.BatchSize, 16384)),
	}
	for i := range a.wake {
		a.wake[i] = make(chan struct{}, 1)
	}
	return a, nil
}

// Notify tells the appliers that new events were committed.
func (a *Applier) Notify() {
	for _, w := range a.wake {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Run applies events with cfg.Workers appliers until ctx is done, each
// finishing the batch in hand.
func (a *Applier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, wake := range a.wake {
		wg.Go(func() { a.work(ctx, wake) })
	}
	wg.Wait()
}

func (a *Applier) work(ctx context.Context, wake <-chan struct{}) {
	ticker := time.NewTicker(a.cfg.PollInterval)
	defer ticker.Stop()
	for {
		n, err := a.ApplyBatch(context.WithoutCancel(ctx))
		if err != nil {
			a.log.WithError(err).Warn("apply webhook batch")
		}
		if n == a.cfg.BatchSize && err == nil && ctx.Err() == nil {
			continue // more may be waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-ticker.C:
		}
	}
}

// Drain applies batches until none is due; for the CLI and tests.
func (a *Applier) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := a.ApplyBatch(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

type finished struct {
	eventType string
	outcome   models.InboxStatus
	received  time.Time
}

// errIsolate: the set met a failing event; redo the batch one event at a
// time, each in a savepoint.
var errIsolate = errors.New("an event failed; isolate events")

// ApplyBatch claims and processes one batch and returns how many events it
// claimed. The batch is first applied as a set (set.go): loaded, decided in
// memory and written in a few statements, the common case. If any event
// fails, the whole transaction is rolled back and the batch is redone one
// event at a time, each in its own savepoint, so the failing one is
// rescheduled and the others still apply; both ways give the same result.
func (a *Applier) ApplyBatch(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	mode := "set"
	claimed, done, retried, err := a.applyBatch(ctx, modeSet)
	for try := 1; models.Overtaken(err) && try < setConflictTries; try++ {
		// Another applier or writer changed or created a payout this
		// batch names (two appliers discovering one withdrawal): decide
		// again from a fresh read rather than retry event by event later,
		// this time taking turns on the withdrawals the batch may discover.
		claimed, done, retried, err = a.applyBatch(ctx, modeSetLockingNew)
	}
	if errors.Is(err, errIsolate) {
		a.log.WithError(err).Debug("apply batch as a set; redoing it one event at a time")
		mode = "isolated"
		claimed, done, retried, err = a.applyBatch(ctx, modeOneByOne)
	}
	if err != nil {
		return 0, fmt.Errorf("apply batch: %w", err)
	}
	if claimed > 0 {
		a.metrics.ApplyBatches.WithLabelValues(mode).Inc()
		a.metrics.ApplyBatchSize.Observe(float64(claimed))
	}
	now := a.cfg.NowFunc()
	for _, d := range done {
		a.metrics.WebhookEventsProcessed.WithLabelValues(EventTypeLabel(d.eventType), string(d.outcome)).Inc()
		if d.outcome == models.InboxApplied {
			a.metrics.ApplyLag.Observe(max(now.Sub(d.received).Seconds(), 0))
		}
	}
	a.metrics.WebhookApplyRetries.Add(float64(retried))
	return claimed, nil
}

// setConflictTries is how many times a batch is applied as a set while it
// meets a write that overtook its read, before it is redone one by one.
const setConflictTries = 3

// applyMode is how applyBatch applies the batch it claims.
type applyMode int

const (
	// modeSet applies it as a set, optimistically: the common case.
	modeSet applyMode = iota
	// modeSetLockingNew applies it as a set after taking a lock on every
	// withdrawal it may discover (models.Store.PayoutLockNew), so that
	// appliers that collided on one take turns. Not the first try: with
	// every event a new withdrawal, the locks cost a burst a third of its
	// rate and lag for a collision that is rare.
	modeSetLockingNew
	// modeOneByOne applies one event at a time, each in a savepoint.
	modeOneByOne
)

func (a *Applier) applyBatch(ctx context.Context, mode applyMode) (claimed int, done []finished, retried int, err error) {
	err = a.store.Tx(ctx, func(tx *models.Store) error {
		evs, err := tx.InboxClaim(ctx, a.cfg.BatchSize)
		if err != nil {
			return err
		}
		claimed = len(evs)
		var finish map[models.InboxStatus][]int64
		if mode == modeOneByOne {
			done, finish, retried, err = a.applyEach(ctx, tx, evs)
		} else if done, finish, err = a.applySet(ctx, tx, evs, mode == modeSetLockingNew); err != nil {
			// A set that fails is redone event by event; the cached
			// bodies it took are decoded again from the stored bytes.
			return fmt.Errorf("%w: %w", errIsolate, err)
		}
		if err != nil {
			return err
		}
		for _, status := range []models.InboxStatus{models.InboxApplied, models.InboxIgnored} {
			if err := tx.InboxFinishMany(ctx, finish[status], status); err != nil {
				return err
			}
		}
		return nil
	})
	return claimed, done, retried, err
}

// applyEach applies the batch one event at a time, each in a savepoint: an
// event that fails is rescheduled (or parked) and the others still apply.
func (a *Applier) applyEach(ctx context.Context, tx *models.Store, evs []models.InboxEvent) (done []finished, finish map[models.InboxStatus][]int64, retried int, err error) {
	finish = map[models.InboxStatus][]int64{}
	for i := range evs {
		ev := &evs[i]
		var (
			outcome models.InboxStatus
			note    string
		)
		if err := tx.Savepoint(ctx, "apply_event", func() error {
			var err error
			outcome, note, err = a.process(ctx, tx, ev)
			return err
		}); err != nil {
			parked, perr := a.failed(ctx, tx, ev, err)
			if perr != nil {
				return nil, nil, 0, perr
			}
			if !parked {
				retried++
				continue
			}
			outcome = models.InboxParked
		}
		switch {
		case note != "":
			if err := tx.InboxFinish(ctx, ev.ID, outcome, note); err != nil {
				return nil, nil, 0, err
			}
		case outcome == models.InboxApplied || outcome == models.InboxIgnored:
			finish[outcome] = append(finish[outcome], ev.ID)
		}
		done = append(done, finished{eventType: ev.EventType, outcome: outcome, received: ev.ReceivedAt})
	}
	return done, finish, retried, nil
}

// process decides and applies one event. Applied and ignored events are
// marked finished by the caller, in one statement per batch, or on their
// own when process returns a note to keep as the event's last error; an
// unprocessable one is marked here, with its reason. Errors are transient
// (the database); anything about the body itself is an outcome.
func (a *Applier) process(ctx context.Context, tx *models.Store, ev *models.InboxEvent) (models.InboxStatus, string, error) {
	p := Parse(ev.Body)
	decoded, err := p.Value, p.Err
	switch {
	case errors.Is(err, ErrUntracked):
		return models.InboxIgnored, "", nil
	case errors.Is(err, ErrUnprocessable):
		return models.InboxUnprocessable, "", a.unprocessable(ctx, tx, ev, err)
	case err != nil:
		return "", "", err
	}
	switch e := decoded.(type) {
	case *WithdrawEvent:
		err = a.applyWithdraw(ctx, tx, ev, e)
	case *KYCEvent:
		err = a.applyKYC(ctx, tx, ev, e)
	case *RailEvent:
		var known bool
		if known, err = a.applyRail(ctx, tx, ev, e); err == nil && !known {
			return models.InboxIgnored, NoteUnknownWithdraw, nil
		}
	default:
		err = fmt.Errorf("decoded %T", decoded)
	}
	if err != nil {
		return "", "", err
	}
	return models.InboxApplied, "", nil
}

// NoteUnknownWithdraw is the last error of a rail event ignored because its
// withdrawId names no payout payoutd knows. Reconciliation discovers such a
// payout from Coinflow's list; the event is kept, never parked.
const NoteUnknownWithdraw = "names no payout payoutd knows"

// applyRail applies a rail event to the payout its withdrawId names, as
// evidence through decide, and reports whether there was one.
func (a *Applier) applyRail(ctx context.Context, tx *models.Store, ev *models.InboxEvent, e *RailEvent) (bool, error) {
	p, err := tx.PayoutByCoinflowID(ctx, e.WithdrawID)
	if err != nil || p == nil {
		return false, err
	}
	if p.CoinflowTransaction == nil && p.IdempotencyKey == nil {
		return false, nil // nothing decide could match it by
	}
	d, err := decide.Payout(railCandidates(p), e.Evidence(ev.ID, p), models.NewID)
	if err != nil {
		return false, err
	}
	if d.Discovered {
		return false, fmt.Errorf("rail event for payout %s decided as a new payout", p.ID)
	}
	_, err = tx.PayoutWrite(ctx, d.Write)
	return true, err
}

func (a *Applier) applyWithdraw(ctx context.Context, tx *models.Store, ev *models.InboxEvent, e *WithdrawEvent) error {
	c, err := tx.PayoutCandidatesFor(ctx, e.Signature, e.IdempotencyKey)
	if err != nil {
		return err
	}
	d, err := decide.Payout(c, e.Evidence(ev.ID), models.NewID)
	if err != nil {
		return err
	}
	if ev.ConflictsWith != nil {
		f, err := a.conflictingCopy(ctx, tx, ev, e, d.Write.New)
		if err != nil {
			return err
		}
		d.Write.Raise = append(d.Write.Raise, f)
	}
	if _, err := tx.PayoutWrite(ctx, d.Write); err != nil {
		return err
	}
	if d.Discovered {
		a.log.WithFields(logrus.Fields{"payout_id": d.Write.New.ID, "status": d.Write.New.Status}).Info("discovered payout from webhook")
	}
	return nil
}

// conflictingCopy is the finding of an event delivered twice with
// different content (see models.InboxEvent.ConflictsWith): both copies are
// kept and applied, and finance is shown which fields differ.
func (a *Applier) conflictingCopy(ctx context.Context, tx *models.Store, ev *models.InboxEvent, e *WithdrawEvent, p *models.Payout) (models.Finding, error) {
	first, err := tx.InboxGet(ctx, *ev.ConflictsWith)
	if err != nil {
		return models.Finding{}, err
	}
	var differs []string
	if v, err := Decode(first.Body); err == nil {
		if f, ok := v.(*WithdrawEvent); ok {
			differs = withdrawDifferences(f, e)
		}
	}
	return models.Finding{
		Kind: models.KindAmountMismatch, Subject: "redelivery:" + strconv.FormatInt(ev.ID, 10), Severity: models.SeverityError,
		PayoutID: &p.ID, UserID: &p.UserID,
		Details: models.Details{
			"reason": "conflicting_redelivery", "inbox_event_id": ev.ID, "first_inbox_event_id": first.ID,
			"event_type": e.Type, "differs": differs,
		},
	}, nil
}

// withdrawDifferences names the fields in which two copies of one event
// differ (names only: values stay in the stored bodies).
func withdrawDifferences(a, b *WithdrawEvent) []string {
	var out []string
	for name, same := range map[string]bool{
		"total": a.Total == b.Total, "userFees": a.UserFees == b.UserFees, "merchantFees": a.MerchantFees == b.MerchantFees,
		"userId": a.UserID == b.UserID, "idempotencyKey": a.IdempotencyKey == b.IdempotencyKey,
	} {
		if !same {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func (a *Applier) applyKYC(ctx context.Context, tx *models.Store, ev *models.InboxEvent, e *KYCEvent) error {
	cur, err := tx.WithdrawerForUpdate(ctx, e.UserID)
	if err != nil {
		return err
	}
	d := decide.Withdrawer(cur, e.Evidence(ev.ID))
	_, err = tx.WithdrawerWrite(ctx, d.Write)
	return err
}

// unprocessable raises the finding of an event whose body no retry could
// make sense of, and marks it unprocessable with the reason.
func (a *Applier) unprocessable(ctx context.Context, tx *models.Store, ev *models.InboxEvent, reason error) error {
	if err := a.raiseUnprocessable(ctx, tx, ev, reason.Error()); err != nil {
		return err
	}
	a.log.WithFields(logrus.Fields{"inbox_event_id": ev.ID, "reason": reason.Error()}).Warn("unprocessable webhook")
	return tx.InboxFinish(ctx, ev.ID, models.InboxUnprocessable, reason.Error())
}

func (a *Applier) raiseUnprocessable(ctx context.Context, tx *models.Store, ev *models.InboxEvent, reason string) error {
	_, _, err := tx.FindingRaise(ctx, models.Finding{
		Kind: models.KindWebhookUnprocessable, Subject: "inbox:" + strconv.FormatInt(ev.ID, 10), Severity: models.SeverityWarning,
		Details: models.Details{"inbox_event_id": ev.ID, "event_type": ev.EventType, "reason": reason},
	})
	return err
}

// failed reschedules an event whose apply failed, or parks it after
// MaxAttempts. It reports whether the event was parked.
func (a *Applier) failed(ctx context.Context, tx *models.Store, ev *models.InboxEvent, cause error) (bool, error) {
	attempts := ev.Attempts + 1
	log := a.log.WithFields(logrus.Fields{"inbox_event_id": ev.ID, "attempts": attempts}).WithError(cause)
	if attempts < a.cfg.MaxAttempts {
		log.Warn("apply webhook event; will retry")
		// The store's clock decides when the event is due again; schedule by it.
		return false, tx.InboxRetryLater(ctx, ev.ID, attempts, tx.Now().Add(a.backoff(attempts)), cause.Error())
	}
	log.Error("apply webhook event; parked")
	if err := a.raiseUnprocessable(ctx, tx, ev, "apply failed "+strconv.Itoa(attempts)+" times; parked"); err != nil {
		return false, err
	}
	return true, tx.InboxFinish(ctx, ev.ID, models.InboxParked, cause.Error())
}

// backoff doubles per attempt up to MaxBackoff, with jitter so that events
// failing together do not retry together.
func (a *Applier) backoff(attempts int) time.Duration {
	d := a.cfg.BaseBackoff << min(attempts-1, 30)
	if d <= 0 || d > a.cfg.MaxBackoff {
		d = a.cfg.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}
