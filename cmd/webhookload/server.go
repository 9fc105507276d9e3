package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/benchdb"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// server is payoutd running in this process, wired as main.go's serve wires
// it: store, migrations, metrics, pipeline, router, net/http server, and
// the applier in its own goroutine.
type server struct {
	url     string
	key     []byte
	desc    string
	pgDB    string // the PostgreSQL database's name; empty on SQLite
	store   *models.Store
	metrics *metrics.Metrics
	logs    *logCounter
	stop    func() error
}

// startPayoutd starts payoutd on a fresh database: a new PostgreSQL
// database on o.databaseURL's server, or with o.sqlite a new SQLite file.
func startPayoutd(ctx context.Context, o options) (_ *server, err error) {
	var cleanups []func() error
	cleanup := func() error {
		var errs []error
		for i := len(cleanups) - 1; i >= 0; i-- {
			errs = append(errs, cleanups[i]())
		}
		cleanups = nil
		return errors.Join(errs...)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, cleanup())
		}
	}()

	var dbURL, desc, pgDB string
	if o.sqlite {
		dir, err := os.MkdirTemp("", "webhookload-")
		if err != nil {
			return nil, fmt.Errorf("create sqlite directory: %w", err)
		}
		cleanups = append(cleanups, func() error { return os.RemoveAll(dir) })
		dbURL = "sqlite:" + filepath.Join(dir, "payoutd.db")
		desc = "SQLite file " + filepath.Join(dir, "payoutd.db")
	} else {
		db, err := benchdb.Create(ctx, o.databaseURL, "webhookload_payoutd")
		if err != nil {
			return nil, err
		}
		cleanups = append(cleanups, db.Drop)
		dbURL, pgDB = db.URL, db.Name
		desc = "PostgreSQL database " + db.Name
	}

	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := models.Open(openCtx, models.Options{URL: dbURL, MaxOpenConns: o.maxOpenConns})
	if err != nil {
		return nil, err
	}
	cleanups = append(cleanups, store.Close)
	if _, err := store.Migrate(openCtx); err != nil {
		return nil, err
	}
	if o.claimIndex {
		// An experiment on this run's database only: an index whose order is
		// the claim's ORDER BY id, so that a claim reads its batch and not
		// the whole backlog.
		if err := store.DB().WithContext(openCtx).Exec(claimIndexSQL).Error; err != nil {
			return nil, fmt.Errorf("create claim index: %w", err)
		}
	}

	// Production logs JSON at info to stderr; here the lines are formatted
	// the same way (that is the cost) and then discarded, and counted.
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	logger.SetFormatter(&logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano})
	level, _ := logrus.ParseLevel(o.logLevel)
	logger.SetLevel(level)
	logs := newLogCounter()
	logger.AddHook(logs)

	var key [24]byte
	_, _ = rand.Read(key[:])
	webhookKey := []byte(hex.EncodeToString(key[:]))

	m := metrics.New()
	m.RegisterBacklog(store.InboxBacklog, time.Now)
	// Unless the flags say otherwise, what serve gets from config.go.
	applierCfg := inbox.ApplierConfig{BatchSize: o.applierBatch, Workers: o.appliers, PollInterval: 500 * time.Millisecond, MaxAttempts: 8}
	pipe, err := webhook.NewPipeline(store, logger, m, webhook.PipelineConfig{
		Handler:   webhook.HandlerConfig{Key: webhookKey, Tolerance: 5 * time.Minute, AnswerTimeout: 4500 * time.Millisecond},
		Committer: webhook.CommitterConfig{MaxBatch: o.commitMaxBatch, Workers: o.commitWorkers},
		Applier:   applierCfg,
	})
	if err != nil {
		return nil, err
	}
	router := api.NewRouter(api.Deps{
		Store: store, Metrics: m, Log: logger.WithField("component", "http"), Webhook: pipe.Handler,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pipe.Committer.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler: router, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second, MaxHeaderBytes: 64 << 10,
	}
	applierCtx, stopApplier := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	if o.applier {
		wg.Go(func() { pipe.Applier.Run(applierCtx) })
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	cleanups = append(cleanups, func() error {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdownCtx)
		pipe.Committer.Close()
		stopApplier()
		wg.Wait()
		if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	})
	return &server{
		url: "http://" + ln.Addr().String() + "/webhooks/coinflow", key: webhookKey,
		desc: desc, pgDB: pgDB, store: store, metrics: m, logs: logs, stop: cleanup,
	}, nil
}

// claimIndexSQL is the index -claim-index adds.
const claimIndexSQL = "CREATE INDEX webhookload_inbox_pending_id ON inbox_events (id) WHERE status = 'pending'"

// pipelineStats reads the committer's counters.
type pipelineStats struct {
	commits, committed float64 // transactions, and webhooks in them
}

func (s *server) pipelineStats() pipelineStats {
	var st pipelineStats
	mfs, err := s.metrics.Registry.Gather()
	if err != nil {
		return st
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "payoutd_webhook_commit_batch_size":
			for _, m := range mf.GetMetric() {
				st.commits += float64(m.GetHistogram().GetSampleCount())
				st.committed += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return st
}

func (a pipelineStats) sub(b pipelineStats) pipelineStats {
	return pipelineStats{commits: a.commits - b.commits, committed: a.committed - b.committed}
}

// logCounter counts payoutd's log lines at warn and above by message, and
// all lines by level.
type logCounter struct {
	mu       sync.Mutex
	byLevel  map[logrus.Level]int
	warnings map[string]int
}

func newLogCounter() *logCounter {
	return &logCounter{byLevel: map[logrus.Level]int{}, warnings: map[string]int{}}
}

func (l *logCounter) Levels() []logrus.Level { return logrus.AllLevels }

func (l *logCounter) Fire(e *logrus.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byLevel[e.Level]++
	if e.Level <= logrus.WarnLevel {
		l.warnings[e.Level.String()+": "+e.Message]++
	}
	return nil
}

func (l *logCounter) snapshot() (map[logrus.Level]int, map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return maps.Clone(l.byLevel), maps.Clone(l.warnings)
}
