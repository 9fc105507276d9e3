package inbox

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// PruneConfig tunes the Pruner.
type PruneConfig struct {
	// RetainBodies is how long a stored webhook's body is kept (config
	// inbox.retain_bodies); 0 turns pruning off.
	RetainBodies time.Duration
	// BatchSize bounds one batch: the index entries it covers and so the
	// rows one UPDATE may change (default 1000).
	BatchSize int
	// Pause is the least wait after a batch that cleared bodies, so that
	// ingestion's commits interleave with pruning (default 20ms). The wait
	// is also at least as long as the batch took: pruning keeps the
	// database busy half the time at most.
	Pause time.Duration
	// Rescan is how often a run starts again from the oldest event rather
	// than where the last one stopped, to pick up the events that were
	// pending or parked when the cursor passed them (default 24h).
	Rescan  time.Duration
	NowFunc func() time.Time
}

// PruneResult is what one run did.
type PruneResult struct {
	Pruned  int64 // bodies cleared
	Batches int
	Done    bool // caught up with the cutoff (false: stopped by ctx or an error)
}

// Pruner clears the bodies of stored webhooks older than RetainBodies, in
// batches of short statements, keeping every row, its dedup key and state.
// Only bodies of events that are done with are pruned (applied, or ignored
// as an untracked type); pending, parked and unprocessable events keep
// theirs whatever their age: the applier and a replay after a fix need them. It remembers where it stopped, so a
// run cut short by its timeout goes on from there at the next.
type Pruner struct {
	store *models.Store
	log   *logrus.Entry
	m     *metrics.Prune // nil: no metrics
	cfg   PruneConfig

	mu      sync.Mutex // one run at a time
	cursor  models.PruneCursor
	started time.Time // when the cursor last set out from the oldest event
}

// NewPruner returns a pruner; m may be nil.
func NewPruner(store *models.Store, log *logrus.Entry, m *metrics.Prune, cfg PruneConfig) (*Pruner, error) {
	if cfg.RetainBodies < 0 || cfg.BatchSize < 0 || cfg.Pause < 0 || cfg.Rescan < 0 {
		return nil, errors.New("pruner: a negative setting")
	}
	cfg.BatchSize = cmp.Or(cfg.BatchSize, 1000)
	cfg.Pause = cmp.Or(cfg.Pause, 20*time.Millisecond)
	cfg.Rescan = cmp.Or(cfg.Rescan, 24*time.Hour)
	if cfg.NowFunc == nil {
		cfg.NowFunc = time.Now
	}
	return &Pruner{store: store, log: log, m: m, cfg: cfg}, nil
}

// Run prunes until it has caught up with now - RetainBodies or ctx ends.
func (p *Pruner) Run(ctx context.Context) (PruneResult, error) {
	var res PruneResult
	if p.cfg.RetainBodies == 0 {
		return PruneResult{Done: true}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.NowFunc()
	if p.started.IsZero() || now.Sub(p.started) >= p.cfg.Rescan {
		p.cursor, p.started = models.PruneCursor{}, now
	}
	cutoff := now.Add(-p.cfg.RetainBodies)
	for {
		start := time.Now()
		b, err := p.store.InboxPruneBodies(ctx, p.cursor, cutoff, p.cfg.BatchSize)
		if err != nil {
			p.count("error")
			return res, err
		}
		res.Batches++
		res.Pruned += b.Pruned
		p.cursor = b.Next
		if p.m != nil {
			p.m.Batch.Observe(time.Since(start).Seconds())
			p.m.BodiesPruned.Add(float64(b.Pruned))
		}
		if b.Done {
			break
		}
		if b.Pruned > 0 {
			timer := time.NewTimer(max(p.cfg.Pause, time.Since(start)))
			select {
			case <-ctx.Done():
				timer.Stop()
				p.count("error")
				return res, ctx.Err()
			case <-timer.C:
			}
		}
	}
	res.Done = true
	p.count("ok")
	if p.m != nil {
		p.m.LastSuccess.Set(float64(time.Now().Unix()))
	}
	if res.Pruned > 0 {
		p.log.WithFields(logrus.Fields{"pruned": res.Pruned, "batches": res.Batches, "cutoff": cutoff}).Info("pruned old webhook bodies")
	}
	return res, nil
}

func (p *Pruner) count(outcome string) {
	if p.m != nil {
		p.m.Runs.WithLabelValues(outcome).Inc()
	}
}
