// Package kyc follows withdrawers pending verification until Coinflow says
// approved or rejected. Coinflow's KYC webhooks usually say it first; the
// follower is the schedule that does not depend on them. It reads the
// merchant's withdrawer list, streamed, which answers for every withdrawer
// Coinflow lists in one call, and asks per withdrawer (GET /withdraw) only
// for those the list does not answer, paced within Coinflow's documented
// rate limits and slowing down when Coinflow answers 429.
package kyc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
)

// Coinflow's documented limits (README §3 of the contract): 3 KYC calls a
// minute, 10 not-found answers per 10 seconds.
const (
	KYCCallsPerMinute   = 3
	NotFoundPer10Second = 10
)

// WindowMargin widens each limit's window: a call is logged when it is
// sent, Coinflow counts it when it arrives, and a slow first call and a
// fast fourth could otherwise land within one of Coinflow's minutes.
const WindowMargin = 2 * time.Second

// Config tunes the follower. Zero values take the defaults.
type Config struct {
	// Base is the first wait between per-withdrawer checks, doubled per
	// check up to Max (defaults 1m and 1h). The list is read when some
	// pending withdrawer is due; a withdrawer it answers is due again
	// after Base.
	Base, Max time.Duration
	// Calls bounds per-withdrawer lookups in any minute (default 3, the
	// KYC limit: a lookup of a pending withdrawer is a verification check)
	// and NotFound the not-found answers in any 10 seconds (default 10).
	Calls, NotFound int
	// Sleep waits (default: a timer that honours ctx). Tests advance a
	// clock instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Metrics, when set, counts sweeps, calls and 429s.
	Metrics *metrics.KYC
}

// Follower follows pending withdrawers.
type Follower struct {
	store    *models.Store
	cf       *coinflow.Client
	onboard  *onboard.Service
	log      *logrus.Entry
	cfg      Config
	calls    *window
	notFound *window
	// listNotBefore is when the list may be asked for again after a 429.
	listNotBefore time.Time
}

// New returns a follower. cf should not retry on its own (MaxAttempts 1):
// the follower paces and backs off itself, and a client retry would spend
// the rate budget behind its back. ob must use the same client.
func New(store *models.Store, cf *coinflow.Client, ob *onboard.Service, log *logrus.Entry, cfg Config) (*Follower, error) {
	if cfg.Base < 0 || cfg.Max < 0 || cfg.Calls < 0 || cfg.NotFound < 0 {
		return nil, errors.New("kyc: a setting is negative")
	}
	cfg.Base = cmp.Or(cfg.Base, time.Minute)
	cfg.Max = max(cmp.Or(cfg.Max, time.Hour), cfg.Base)
	cfg.Calls = cmp.Or(cfg.Calls, KYCCallsPerMinute)
	cfg.NotFound = cmp.Or(cfg.NotFound, NotFoundPer10Second)
	if cfg.Sleep == nil {
		cfg.Sleep = coinflow.Sleep
	}
	return &Follower{
		store: store, cf: cf, onboard: ob, log: log, cfg: cfg,
		calls: newWindow(cfg.Calls, time.Minute+WindowMargin), notFound: newWindow(cfg.NotFound, 10*time.Second+WindowMargin),
	}, nil
}

// SweepResult is what one sweep did.
type SweepResult struct {
	Pending   int64 // withdrawers pending when the sweep began
	Listed    int64 // withdrawers in Coinflow's list
	Changed   int64 // withdrawers whose verification (or record) changed
	LookedUp  int64 // per-withdrawer lookups
	NotFound  int64 // lookups Coinflow answered 404
	Throttled int64 // answers 429
	Calls     int64 // Coinflow calls made
}

// Sweep checks the pending withdrawers when one of them is due: first all
// of them through the list, then one by one, those due that the list did
// not answer. It stops early,
// keeping what it did, when Coinflow throttles it or ctx ends.
func (f *Follower) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	now := f.store.Now()
	due, err := f.store.WithdrawerAnyPendingDue(ctx, now)
	if err != nil || !due {
		return res, err // nobody pending is due: Coinflow is not asked
	}
	if res.Pending, err = f.store.WithdrawerCountPending(ctx); err != nil {
		return res, err
	}
	if now.Before(f.listNotBefore) {
		f.observe(res, nil)
		return res, nil // Coinflow throttled the list: wait as it asked
	}
	list, listErr := SyncList(ctx, f.store, f.cf, ListOptions{OnlyPending: true, StillPending: func(ids []string) error {
		return f.store.WithdrawerScheduleMany(ctx, ids, now.Add(f.cfg.Base))
	}})
	res.Calls++
	res.Listed, res.Changed = list.Listed, list.Changed
	if errors.Is(listErr, coinflow.ErrRateLimited) {
		res.Throttled++
		f.calls.throttled()
		wait := f.calls.span()
		if apiErr, ok := errors.AsType[*coinflow.APIError](listErr); ok && apiErr.RetryAfter > wait {
			wait = apiErr.RetryAfter
		}
		f.listNotBefore = f.store.Now().Add(wait)
		f.observe(res, listErr)
		return res, listErr
	}
	if listErr != nil {
		// A list that fails otherwise (an element it cannot read, an
		// outage) must not stop the following: the withdrawers that are due
		// are asked about one by one, at the same pace, until it works.
		f.log.WithError(listErr).Warn("kyc sweep: withdrawer list failed; asking per withdrawer")
	}
	throttled := false
	err = f.store.WithdrawerEachPending(ctx, f.store.Now(), func(w *models.Withdrawer) error {
		if throttled {
			return nil
		}
		return f.lookUp(ctx, w, &res, &throttled)
	})
	if err == nil && listErr == nil && !throttled {
		f.calls.relax()
		f.notFound.relax()
	}
	if err == nil {
		err = listErr
	}
	f.observe(res, err)
	f.log.WithFields(logrus.Fields{
		"pending": res.Pending, "listed": res.Listed, "changed": res.Changed, "looked_up": res.LookedUp,
		"not_found": res.NotFound, "throttled": res.Throttled,
	}).Info("kyc sweep")
	return res, err
}

func (f *Follower) observe(res SweepResult, err error) {
	m := f.cfg.Metrics
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.Sweeps.WithLabelValues(outcome).Inc()
	m.Calls.Add(float64(res.Calls))
	m.Throttled.Add(float64(res.Throttled))
	m.Changed.Add(float64(res.Changed))
	m.Pending.Set(float64(res.Pending))
}

// lookUp asks Coinflow about one withdrawer the list did not answer, within
// the limits, and schedules its next check with backoff.
func (f *Follower) lookUp(ctx context.Context, w *models.Withdrawer, res *SweepResult, throttled *bool) error {
	if full, free := f.notFound.full(f.store.Now()); full {
		// Another not-found answer could trip Coinflow's NotFound limit.
		if err := f.cfg.Sleep(ctx, free.Sub(f.store.Now())); err != nil {
			return err
		}
	}
	if err := f.calls.wait(ctx, f.store.Now, f.cfg.Sleep); err != nil {
		return err
	}
	res.LookedUp++
	res.Calls++
	err := f.onboard.Refresh(ctx, w.UserID)
	switch {
	case errors.Is(err, onboard.ErrRateLimited):
		res.Throttled++
		*throttled = true
		f.calls.throttled()
		f.notFound.throttled()
		wait := f.calls.span()
		if apiErr, ok := errors.AsType[*coinflow.APIError](err); ok && apiErr.RetryAfter > wait {
			wait = apiErr.RetryAfter
		}
		// The withdrawer is not at fault: it is asked again once Coinflow
		// lets payoutd, without counting a check.
		return f.store.WithdrawerScheduleCheck(ctx, w.UserID, f.store.Now().Add(wait), w.Checks)
	case errors.Is(err, models.ErrNotFound):
		res.NotFound++
		f.notFound.note(f.store.Now())
	case err != nil:
		f.log.WithError(err).WithField("user_id", w.UserID).Warn("kyc lookup")
	default:
		cur, gerr := f.store.WithdrawerGet(ctx, w.UserID)
		if gerr == nil && cur.VerificationStatus != w.VerificationStatus {
			res.Changed++
		}
	}
	checks := w.Checks + 1
	next := f.store.Now().Add(backoff(f.cfg.Base, f.cfg.Max, checks))
	if err := f.store.WithdrawerScheduleCheck(ctx, w.UserID, next, checks); err != nil {
		return fmt.Errorf("schedule next check: %w", err)
	}
	return nil
}

// backoff is base doubled per check before this one, capped at max.
func backoff(base, max time.Duration, checks int) time.Duration {
	d := base
	for i := 1; i < checks && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}
