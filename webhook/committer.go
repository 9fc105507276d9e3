package webhook

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// ErrCommitUnavailable is returned when an event could not be committed in
// time: the database is down or too slow. The caller answers 503 so that
// Coinflow retries; nothing was promised.
var ErrCommitUnavailable = errors.New("webhook store unavailable")

// CommitterConfig tunes group commit.
type CommitterConfig struct {
	// MaxBatch caps the events in one transaction (default 256).
	MaxBatch int
	// Workers is how many transactions may be in flight at once: while one
	// commits, the next batch gathers (default 2; SQLite serialises anyway).
	Workers int
	// Timeout bounds one batch's database work (default 3.5s, so that a
	// request queued behind a stalled batch still hears 503 inside
	// Coinflow's 5s deadline).
	Timeout time.Duration
}

// Committer stores webhooks by group commit: each worker takes every
// request waiting, inserts them in one transaction, and answers each only
// after that transaction has committed. One fsync then serves many requests,
// without weakening the rule that no webhook is acknowledged before its
// durable write.
type Committer struct {
	store   *models.Store
	log     *logrus.Entry
	metrics *metrics.Metrics
	cfg     CommitterConfig
	reqs    chan *commitRequest
	onStore func([]models.InboxEvent, []inbox.Parsed) // told after a commit that stored something new

	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

type commitRequest struct {
	ev     models.InboxEvent
	parsed inbox.Parsed      // the body decoded, handed on to the applier
	done   chan commitResult // buffered: a worker never blocks on a gone caller
}

type commitResult struct {
	id       int64 // the stored row's, when inserted
	inserted bool
	err      error
}

// NewCommitter starts the commit workers; Close stops them. onStore, when
// set, is told of each commit that stored something new: the events (their
// IDs set; 0 for those already stored) and their decoded bodies.
func NewCommitter(store *models.Store, log *logrus.Entry, m *metrics.Metrics, cfg CommitterConfig, onStore func([]models.InboxEvent, []inbox.Parsed)) (*Committer, error) {
	if cfg.MaxBatch < 0 || cfg.Workers < 0 || cfg.Timeout < 0 {
		return nil, errors.New("committer: a negative setting")
	}
	cfg.MaxBatch = cmp.Or(cfg.MaxBatch, 256)
	cfg.Workers = cmp.Or(cfg.Workers, 2)
	cfg.Timeout = cmp.Or(cfg.Timeout, 3500*time.Millisecond)
	if onStore == nil {
		onStore = func([]models.InboxEvent, []inbox.Parsed) {}
	}
	c := &Committer{
		store: store, log: log, metrics: m, cfg: cfg, onStore: onStore,
		reqs: make(chan *commitRequest, cfg.MaxBatch*cfg.Workers), stop: make(chan struct{}),
	}
	for range cfg.Workers {
		c.stopped.Add(1)
		go c.work()
	}
	return c, nil
}

// Submit stores ev and returns once it is durably committed (inserted true,
// with the stored row's id) or found already stored by an earlier commit
// (inserted false, id 0). Any error means the event may not be stored.
func (c *Committer) Submit(ctx context.Context, ev models.InboxEvent, parsed inbox.Parsed) (id int64, inserted bool, err error) {
	req := &commitRequest{ev: ev, parsed: parsed, done: make(chan commitResult, 1)}
	select {
	case c.reqs <- req:
	case <-c.stop:
		return 0, false, ErrCommitUnavailable
	case <-ctx.Done():
		return 0, false, ErrCommitUnavailable
	}
	select {
	case res := <-req.done:
		return res.id, res.inserted, res.err
	case <-ctx.Done():
		// The batch may still commit; Coinflow's retry will then be a
		// duplicate, which is harmless. What matters is not to say 200.
		return 0, false, ErrCommitUnavailable
	}
}

// Close stops the workers after the batches in flight. Call it after the
// HTTP server has stopped handing it requests.
func (c *Committer) Close() {
	c.once.Do(func() { close(c.stop) })
	c.stopped.Wait()
	// Anything still queued was never committed; its callers are told so.
	for {
		select {
		case req := <-c.reqs:
			req.done <- commitResult{err: ErrCommitUnavailable}
		default:
			return
		}
	}
}

func (c *Committer) work() {
	defer c.stopped.Done()
	batch := make([]*commitRequest, 0, c.cfg.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case <-c.stop:
			return
		case req := <-c.reqs:
			batch = append(batch, req)
		}
	gather:
		for len(batch) < c.cfg.MaxBatch {
			select {
			case req := <-c.reqs:
				batch = append(batch, req)
			default:
				break gather
			}
		}
		c.commit(batch)
	}
}

func (c *Committer) commit(batch []*commitRequest) {
	evs := make([]models.InboxEvent, len(batch))
	parsed := make([]inbox.Parsed, len(batch))
	for i, r := range batch {
		evs[i], parsed[i] = r.ev, r.parsed
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	inserted, err := c.store.InboxInsert(ctx, evs)
	cancel()
	if err != nil {
		c.log.WithError(err).WithField("batch", len(batch)).Warn("commit webhooks")
		for _, r := range batch {
			r.done <- commitResult{err: ErrCommitUnavailable}
		}
		return
	}
	c.metrics.CommitBatchSize.Observe(float64(len(batch)))
	anyNew := false
	for i, r := range batch {
		anyNew = anyNew || inserted[i]
		r.done <- commitResult{id: evs[i].ID, inserted: inserted[i]}
	}
	if anyNew {
		c.onStore(evs, parsed)
	}
}
