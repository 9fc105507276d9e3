package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/scheduler"
)

// Log messages the scheduler's behaviour is observed through.
const (
	msgBusy     = "skip tick: previous run still going"
	msgLeased   = "skip tick: another process has it"
	msgDone     = "job done"
	msgFailed   = "job failed"
	msgClaimErr = "claim job lease"
)

// Ticks of "@every 1s" come once a second, so every wait on one gets a few.
const tickWait = 5 * time.Second

type testBundle struct {
	logger *logrus.Logger
	hook   *logtest.Hook
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	return &testBundle{logger: logger, hook: hook}
}

// newScheduler starts a scheduler with the jobs and stops it when the test
// ends, unless the test stopped it itself.
func (b *testBundle) newScheduler(t *testing.T, leaser scheduler.Leaser, holder string, jobs ...scheduler.Job) *scheduler.Scheduler {
	t.Helper()
	s := scheduler.New(b.logger.WithField("component", "scheduler"), leaser, holder)
	for _, j := range jobs {
		require.NoError(t, s.Add(j))
	}
	s.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Stop(ctx)
	})
	return s
}

// watch reports on the returned channel every entry logged with msg from
// now on, so that a test waits on the log line instead of polling for it.
func (b *testBundle) watch(msg string) <-chan *logrus.Entry {
	ch := make(chan *logrus.Entry, 64)
	b.logger.AddHook(&signalHook{msg: msg, ch: ch})
	return ch
}

type signalHook struct {
	msg string
	ch  chan *logrus.Entry
}

func (h *signalHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h *signalHook) Fire(e *logrus.Entry) error {
	if e.Message == h.msg {
		select {
		case h.ch <- e:
		default: // the test has seen enough of them
		}
	}
	return nil
}

// entries returns the logged entries with msg.
func (b *testBundle) entries(msg string) []logrus.Entry {
	var out []logrus.Entry
	for _, e := range b.hook.AllEntries() {
		if e.Message == msg {
			out = append(out, *e)
		}
	}
	return out
}

// recv waits for one value on ch, failing the test after timeout.
func recv[T any](t *testing.T, ch <-chan T, timeout time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("no %s within %s", what, timeout)
	case <-t.Context().Done():
		t.Fatalf("test ended waiting for %s", what)
	}
	panic("unreachable")
}

// notYet fails the test if ch delivers within d: the thing must still be
// pending.
func notYet[T any](t *testing.T, ch <-chan T, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s too early", what)
	case <-time.After(d):
	}
}

func TestSchedulerAddRejectsBadSchedule(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, spec string
	}{
		{"empty", ""},
		{"not cron", "every 5 minutes"},
		{"too few fields", "*/5 * *"},
		{"seconds field", "0 */5 * * * *"},
		{"minute out of range", "61 * * * *"},
		{"unknown descriptor", "@fortnightly"},
		{"bad duration", "@every five"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := scheduler.New(setup(t).logger.WithField("component", "scheduler"), nil, "test")
			err := s.Add(scheduler.Job{Name: "nightly-report", Schedule: tc.spec, Run: func(context.Context) error { return nil }})
			require.Error(t, err)
			require.ErrorContains(t, err, "job nightly-report")
			require.ErrorContains(t, err, `schedule "`+tc.spec+`"`)
			_, perr := scheduler.Parse(tc.spec)
			require.Error(t, perr, "Parse must refuse what Add refuses")
		})
	}
}

func TestSchedulerRunsJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	done := b.watch(msgDone)
	type run struct {
		deadline time.Time
		ok       bool
		at       time.Time
	}
	runs := make(chan run, 8)
	b.newScheduler(t, nil, "test", scheduler.Job{
		Name: "ping", Schedule: "@every 1s", // no Timeout: the default applies
		Run: func(ctx context.Context) error {
			dl, ok := ctx.Deadline()
			select {
			case runs <- run{deadline: dl, ok: ok, at: time.Now()}:
			default:
			}
			return nil
		},
	})

	r := recv(t, runs, tickWait, "run of the job")
	require.True(t, r.ok, "the run's context has a deadline")
	require.WithinDuration(t, r.at.Add(10*time.Minute), r.deadline, 5*time.Second, "the default timeout is 10m")
	e := recv(t, done, tickWait, msgDone+" log")
	require.Equal(t, "ping", e.Data["job"])
	require.Contains(t, e.Data, "duration_ms")
	recv(t, runs, tickWait, "second run of the job")
}

func TestSchedulerNoOverlap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	busy := b.watch(msgBusy)
	release := make(chan struct{})
	var running, maxRunning, runs atomic.Int32
	s := b.newScheduler(t, nil, "test", scheduler.Job{
		Name: "slow", Schedule: "@every 1s", Timeout: time.Minute,
		Run: func(ctx context.Context) error {
			n := running.Add(1)
			defer running.Add(-1)
			for m := maxRunning.Load(); n > m && !maxRunning.CompareAndSwap(m, n); m = maxRunning.Load() {
			}
			runs.Add(1)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		},
	})

	// The first run holds on; the next ticks must be skipped and said so.
	for i := range 3 {
		e := recv(t, busy, tickWait, "skipped tick")
		require.Equal(t, "slow", e.Data["job"], "skip %d names the job", i)
	}
	require.EqualValues(t, 1, runs.Load(), "runs while the first is still going")
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s.Stop(ctx)
	require.EqualValues(t, 1, maxRunning.Load(), "most runs of one job at once")
	require.Zero(t, running.Load(), "runs still going after Stop")
}

func TestSchedulerRunContextEndsAtTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	failed := b.watch(msgFailed)
	const timeout = 400 * time.Millisecond
	type run struct {
		start, deadline, end time.Time
		err                  error
	}
	runs := make(chan run, 1)
	b.newScheduler(t, nil, "test", scheduler.Job{
		Name: "bounded", Schedule: "@every 1s", Timeout: timeout,
		Run: func(ctx context.Context) error {
			start := time.Now()
			dl, _ := ctx.Deadline()
			<-ctx.Done()
			select {
			case runs <- run{start: start, deadline: dl, end: time.Now(), err: ctx.Err()}:
			default:
			}
			return ctx.Err()
		},
	})

	r := recv(t, runs, tickWait, "run ended by its timeout")
	require.ErrorIs(t, r.err, context.DeadlineExceeded)
	require.WithinDuration(t, r.start.Add(timeout), r.deadline, 100*time.Millisecond, "deadline is the job's timeout from the run's start")
	require.GreaterOrEqual(t, r.end.Sub(r.start), timeout-100*time.Millisecond, "the context ended no earlier than the timeout")
	e := recv(t, failed, tickWait, msgFailed+" log")
	require.Equal(t, "bounded", e.Data["job"])
	require.ErrorIs(t, e.Data[logrus.ErrorKey].(error), context.DeadlineExceeded)
}

func TestSchedulerStopWaitsForRunningJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	ctxErr := make(chan error, 1)
	s := b.newScheduler(t, nil, "test", scheduler.Job{
		Name: "long", Schedule: "@every 1s", Timeout: time.Minute,
		Run: func(ctx context.Context) error {
			started <- struct{}{}
			<-release // deliberately deaf to ctx: Stop must wait anyway
			ctxErr <- ctx.Err()
			return nil
		},
	})
	recv(t, started, tickWait, "start of the run")

	stopCtx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		s.Stop(stopCtx)
		close(stopped)
	}()
	notYet(t, stopped, 500*time.Millisecond, "Stop returning while the job runs")
	close(release)
	require.NoError(t, recv(t, ctxErr, time.Second, "end of the run"), "Stop with time to spare must not cancel the run")
	recv(t, stopped, 5*time.Second, "Stop returning after the run ended")
	notYet(t, started, 1500*time.Millisecond, "a run after Stop")
}

func TestSchedulerStopCancelsJobWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	started := make(chan struct{}, 1)
	cancelled := make(chan error, 1)
	finish := make(chan struct{})
	defer close(finish) // lets the run end if an assertion fails first
	var returned atomic.Bool
	s := b.newScheduler(t, nil, "test", scheduler.Job{
		// The timeout is long so that only Stop can end the run's context
		// before it.
		Name: "stubborn", Schedule: "@every 1s", Timeout: 8 * time.Second,
		Run: func(ctx context.Context) error {
			started <- struct{}{}
			<-ctx.Done()
			cancelled <- ctx.Err()
			<-finish // cleanup after cancellation: Stop must still wait for it
			returned.Store(true)
			return ctx.Err()
		},
	})
	recv(t, started, tickWait, "start of the run")

	stopCtx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	stopCalled := time.Now()
	stopped := make(chan struct{})
	go func() {
		s.Stop(stopCtx)
		close(stopped)
	}()
	err := recv(t, cancelled, 3*time.Second, "cancellation of the run's context after Stop's context ended")
	require.ErrorIs(t, err, context.Canceled, "cancelled by Stop, not ended by the job's timeout")
	require.Less(t, time.Since(stopCalled), 3*time.Second)
	notYet(t, stopped, 500*time.Millisecond, "Stop returning before the cancelled run returned")
	finish <- struct{}{}
	recv(t, stopped, 5*time.Second, "Stop returning after the run returned")
	require.True(t, returned.Load(), "Stop returned before the run did")
}

func TestSchedulerRecoversPanickingJob(t *testing.T) {
	t.Parallel()
	b := setup(t)
	failed := b.watch(msgFailed)
	var runs atomic.Int32
	b.newScheduler(t, nil, "test", scheduler.Job{
		Name: "crash", Schedule: "@every 1s",
		Run: func(context.Context) error {
			runs.Add(1)
			panic("boom")
		},
	})
	for i := range 2 { // the second proves the scheduler survived the first
		e := recv(t, failed, tickWait, "log of the panicking run")
		require.Equal(t, logrus.WarnLevel, e.Level)
		require.Equal(t, "crash", e.Data["job"], "entry %d", i)
		err, ok := e.Data[logrus.ErrorKey].(error)
		require.True(t, ok, "entry %d carries the error", i)
		require.ErrorContains(t, err, "job panicked: boom")
	}
	require.GreaterOrEqual(t, runs.Load(), int32(2))
}

// TestSchedulersShareLease runs the same job on two schedulers (two
// processes, as far as the lease knows) over one database: each tick must
// run once, not once per scheduler.
func TestSchedulersShareLease(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		t.Parallel()
		type run struct {
			holder string
			at     time.Time
		}
		var (
			mu   sync.Mutex
			runs []run
		)
		ran := make(chan struct{}, 64)
		job := func(holder string) scheduler.Job {
			return scheduler.Job{
				Name: "reconcile", Schedule: "@every 1s", Timeout: 30 * time.Second,
				Run: func(context.Context) error {
					mu.Lock()
					runs = append(runs, run{holder: holder, at: time.Now()})
					mu.Unlock()
					ran <- struct{}{}
					return nil
				},
			}
		}
		leaser := scheduler.DBLeaser{Store: store}
		ba, bb := setup(t), setup(t)
		a := ba.newScheduler(t, leaser, "host-a:1", job("host-a:1"))
		b := bb.newScheduler(t, leaser, "host-b:2", job("host-b:2"))

		const ticks = 4
		for i := range ticks {
			recv(t, ran, tickWait, fmt.Sprintf("run %d", i+1))
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		wg.Go(func() { a.Stop(ctx) })
		wg.Go(func() { b.Stop(ctx) })
		wg.Wait()

		// A tick is the whole second it fired at: "@every 1s" fires on the
		// second, and a claim takes milliseconds. Every decision, a run or a
		// skip for want of the lease, belongs to one.
		mu.Lock()
		defer mu.Unlock()
		seen := map[time.Time]bool{}
		runsPerTick := map[time.Time]int{}
		holders := map[string]int{}
		for _, r := range runs {
			tick := r.at.Truncate(time.Second)
			seen[tick] = true
			runsPerTick[tick]++
			holders[r.holder]++
		}
		skips := append(ba.entries(msgLeased), bb.entries(msgLeased)...)
		for _, e := range skips {
			seen[e.Time.Truncate(time.Second)] = true
		}
		for tick, n := range runsPerTick {
			require.Equal(t, 1, n, "runs at tick %s (holders %v)", tick.Format(time.RFC3339), holders)
		}
		require.GreaterOrEqual(t, len(runs), ticks)
		require.Len(t, runs, len(seen), "runs against ticks: one run per tick, not one per scheduler")
		// Both were competing: at each tick the one without the lease
		// said so (the first and last tick may have had one scheduler only).
		require.GreaterOrEqual(t, len(skips), len(runs)-2, "skips for want of the lease")
		require.Empty(t, append(ba.entries(msgClaimErr), bb.entries(msgClaimErr)...), "lease claims that failed")
		t.Logf("%d ticks, %d runs by holder %v, %d skipped for want of the lease", len(seen), len(runs), holders, len(skips))
	})
}

// TestSchedulerJobLeaseClaim checks the lease rules on a stepped clock: one claim
// per minGap across holders, none while another holder's lease runs,
// another after release and the gap, and an expired lease no longer holds.
func TestSchedulerJobLeaseClaim(t *testing.T) {
	t0 := time.Date(2025, 6, 2, 14, 0, 0, 0, time.UTC)
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		ctx := t.Context()
		const (
			job    = "reconcile"
			minGap = 30 * time.Second
			lease  = time.Minute
		)
		claim := func(holder string) bool {
			t.Helper()
			ok, err := store.JobLeaseClaim(ctx, job, holder, minGap, lease)
			require.NoError(t, err)
			return ok
		}

		require.True(t, claim("a"), "first claim of a job")
		require.False(t, claim("b"), "second claim at the same instant")
		require.False(t, claim("a"), "the holder itself, at the same instant")

		clock.Advance(minGap + time.Second)
		require.False(t, claim("b"), "past the gap but while a's lease runs")

		require.NoError(t, store.JobLeaseRelease(ctx, job, "b"))
		require.False(t, claim("b"), "b's release does not end a's lease")

		require.NoError(t, store.JobLeaseRelease(ctx, job, "a"))
		require.True(t, claim("b"), "after a released and the gap passed")
		require.NoError(t, store.JobLeaseRelease(ctx, job, "b"))

		clock.Advance(minGap - time.Second)
		require.False(t, claim("a"), "released, but within the gap of b's claim")
		clock.Advance(time.Second)
		require.True(t, claim("a"), "released, and exactly the gap after b's claim")

		// a never releases (it crashed): its lease ends by itself.
		clock.Advance(lease)
		require.False(t, claim("b"), "at the instant a's lease ends")
		clock.Advance(time.Microsecond)
		require.True(t, claim("b"), "after a's lease ran out")

		ok, err := store.JobLeaseClaim(ctx, "other", "a", minGap, lease)
		require.NoError(t, err)
		require.True(t, ok, "another job is not held by this one's lease")
	})
}

// A leaser error skips the tick and is logged; the job does not run.
func TestSchedulerSkipsTickWhenClaimFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	claimErr := b.watch(msgClaimErr)
	var runs atomic.Int32
	b.newScheduler(t, failingLeaser{}, "test", scheduler.Job{
		Name: "leased", Schedule: "@every 1s",
		Run: func(context.Context) error { runs.Add(1); return nil },
	})
	e := recv(t, claimErr, tickWait, msgClaimErr+" log")
	require.Equal(t, "leased", e.Data["job"])
	require.ErrorIs(t, e.Data[logrus.ErrorKey].(error), errLeaseDown)
	require.Zero(t, runs.Load(), "runs without a lease")
}

var errLeaseDown = errors.New("lease store down")

type failingLeaser struct{}

func (failingLeaser) Claim(context.Context, string, string, time.Duration, time.Duration) (func(), bool, error) {
	return nil, false, errLeaseDown
}

// recordingLeaser grants every claim and reports the minGap it was asked
// for.
type recordingLeaser struct{ gaps chan time.Duration }

func (l recordingLeaser) Claim(_ context.Context, _, _ string, minGap, _ time.Duration) (func(), bool, error) {
	select {
	case l.gaps <- minGap:
	default:
	}
	return func() {}, true, nil
}

// TestSchedulerLeaseGapFitsTheTick checks the minGap a tick claims with:
// it must not exceed the time since the schedule's previous tick, or the
// lease taken at that tick (by this process or another) refuses this one
// and the tick runs nowhere.
func TestSchedulerLeaseGapFitsTheTick(t *testing.T) {
	t.Parallel()
	t.Run("every", func(t *testing.T) {
		t.Parallel()
		gaps := make(chan time.Duration, 4)
		setup(t).newScheduler(t, recordingLeaser{gaps: gaps}, "test", scheduler.Job{
			Name: "regular", Schedule: "@every 2s", Run: func(context.Context) error { return nil },
		})
		gap := recv(t, gaps, tickWait, "claim")
		require.Greater(t, gap, time.Second, "minGap of @every 2s: two processes ticking a second apart must not both run")
		require.Less(t, gap, 2*time.Second, "minGap of @every 2s: the next tick must be claimable")
	})
	t.Run("irregular_cron", func(t *testing.T) {
		if testing.Short() {
			t.Skip("waits for the next minute")
		}
		t.Parallel()
		// Ticks at this minute and the next: the coming tick is a minute
		// after the previous one, and 59 minutes before the one after.
		now := time.Now().UTC()
		if now.Second() >= 55 {
			now = now.Add(10 * time.Second) // the spec must be added within this minute
			time.Sleep(time.Until(now.Truncate(time.Minute)))
		}
		m := now.Minute()
		spec := fmt.Sprintf("%d,%d * * * *", m, (m+1)%60)
		gaps := make(chan time.Duration, 4)
		setup(t).newScheduler(t, recordingLeaser{gaps: gaps}, "test", scheduler.Job{
			Name: "twice-an-hour", Schedule: spec, Run: func(context.Context) error { return nil },
		})
		gap := recv(t, gaps, 70*time.Second, "claim at the next minute")
		require.LessOrEqual(t, gap, time.Minute,
			"minGap of %q at the tick a minute after the previous one: a claim made at that previous tick refuses this tick everywhere", spec)
	})
}
