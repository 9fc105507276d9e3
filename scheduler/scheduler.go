// Package scheduler runs payoutd's periodic jobs on robfig/cron in UTC.
// Schedules are parsed when a job is added, so a bad one fails start-up.
// Each run gets its own context with the job's timeout; a job never overlaps
// itself; Stop waits for running jobs. With several payoutd processes on one
// database, a lease in the database (Leaser) lets one process run each tick.
package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"
)

// Job is a named periodic task.
type Job struct {
	Name     string
	Schedule string        // robfig/cron: "@every 5m", "*/10 * * * *"
	Timeout  time.Duration // bounds one run (default 10m)
	Run      func(ctx context.Context) error
}

// Leaser grants one process at a time the right to run a job's tick:
// Claim succeeds at most once per minGap across processes and while no
// other holder's lease (until) is running; release ends the lease.
type Leaser interface {
	Claim(ctx context.Context, job, holder string, minGap, lease time.Duration) (release func(), ok bool, err error)
}

// Scheduler owns the cron and the jobs.
type Scheduler struct {
	cron   *cron.Cron
	log    *logrus.Entry
	leaser Leaser
	holder string
	// abort is closed when Stop gives up waiting: running jobs' contexts
	// end, and no tick starts again.
	abort     chan struct{}
	abortOnce sync.Once
	running   sync.WaitGroup
	mu        sync.Mutex
	busy      map[string]bool
}

// New returns a scheduler in UTC. holder names this process in leases.
func New(log *logrus.Entry, leaser Leaser, holder string) *Scheduler {
	return &Scheduler{
		cron:   cron.New(cron.WithLocation(time.UTC), cron.WithParser(parser)),
		log:    log,
		leaser: leaser,
		holder: holder,
		abort:  make(chan struct{}),
		busy:   map[string]bool{},
	}
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse checks a schedule the way Add will.
func Parse(spec string) (cron.Schedule, error) {
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", spec, err)
	}
	return s, nil
}

// Add registers a job; a schedule that does not parse is an error.
func (s *Scheduler) Add(job Job) error {
	sched, err := Parse(job.Schedule)
	if err != nil {
		return fmt.Errorf("job %s: %w", job.Name, err)
	}
	if job.Timeout <= 0 {
		job.Timeout = 10 * time.Minute
	}
	// Processes tick out of phase ("@every" counts from each one's start),
	// so "one run per tick" means at most one run per interval across them:
	// a claim is refused within 90% of the shortest interval of the
	// schedule (irregular specs such as "46,47 * * * *" have several; the
	// 10% absorbs timer and clock jitter between processes).
	minGap := shortestInterval(sched, time.Now().UTC()) * 9 / 10
	s.cron.Schedule(sched, cron.FuncJob(func() { s.tick(job, minGap) }))
	return nil
}

// shortestInterval is the least time between consecutive ticks over the
// schedule's next 50 ticks.
func shortestInterval(sched cron.Schedule, from time.Time) time.Duration {
	prev := sched.Next(from)
	shortest := time.Duration(0)
	for range 50 {
		next := sched.Next(prev)
		if next.IsZero() {
			break
		}
		if d := next.Sub(prev); shortest == 0 || d < shortest {
			shortest = d
		}
		prev = next
	}
	return shortest
}

// Start begins running jobs on their schedules.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling, then waits for running jobs; if ctx ends first
// their contexts are cancelled and Stop still waits for them to return.
func (s *Scheduler) Stop(ctx context.Context) {
	s.cron.Stop() // no new ticks; s.running tracks the runs still going
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.stopJobs()
		<-done
	}
	s.stopJobs()
}

func (s *Scheduler) stopJobs() { s.abortOnce.Do(func() { close(s.abort) }) }

func (s *Scheduler) aborted() bool {
	select {
	case <-s.abort:
		return true
	default:
		return false
	}
}

// tick runs one scheduled occurrence, unless the job is still running here
// or another process holds this tick.
func (s *Scheduler) tick(job Job, minGap time.Duration) {
	s.mu.Lock()
	if s.busy[job.Name] || s.aborted() {
		s.mu.Unlock()
		s.log.WithField("job", job.Name).Info("skip tick: previous run still going")
		return
	}
	s.busy[job.Name] = true
	s.running.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.busy[job.Name] = false
		s.mu.Unlock()
		s.running.Done()
	}()

	log := s.log.WithField("job", job.Name)
	ctx, cancel := context.WithTimeout(context.Background(), job.Timeout)
	defer cancel()
	go func() {
		select {
		case <-s.abort:
			cancel()
		case <-ctx.Done():
		}
	}()
	if s.leaser != nil {
		release, ok, err := s.leaser.Claim(ctx, job.Name, s.holder, minGap, job.Timeout)
		if err != nil {
			log.WithError(err).Warn("claim job lease")
			return
		}
		if !ok {
			log.Debug("skip tick: another process has it")
			return
		}
		defer release()
	}
	start := time.Now()
	err := safeRun(ctx, job.Run)
	entry := log.WithField("duration_ms", time.Since(start).Milliseconds())
	if err != nil {
		entry.WithError(err).Warn("job failed")
		return
	}
	entry.Info("job done")
}

func safeRun(ctx context.Context, run func(context.Context) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job panicked: %v", r)
		}
	}()
	return run(ctx)
}

// LeaseStore is the database side of DBLeaser (models.Store has it).
type LeaseStore interface {
	JobLeaseClaim(ctx context.Context, job, holder string, minGap, lease time.Duration) (bool, error)
	JobLeaseRelease(ctx context.Context, job, holder string) error
}

// DBLeaser is a Leaser backed by a lease row per job in the database, so
// that processes sharing a database share the leases.
type DBLeaser struct{ Store LeaseStore }

// Claim implements Leaser.
func (l DBLeaser) Claim(ctx context.Context, job, holder string, minGap, lease time.Duration) (func(), bool, error) {
	ok, err := l.Store.JobLeaseClaim(ctx, job, holder, minGap, lease)
	if err != nil || !ok {
		return nil, false, err
	}
	release := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = l.Store.JobLeaseRelease(ctx, job, holder)
	}
	return release, true, nil
}
