package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// server is payoutd in this process, wired as serve wires it, with the
// pruner made but not scheduled: the run decides when it prunes.
type server struct {
	url    string
	key    []byte
	store  *models.Store
	pruner *inbox.Pruner
	stop   func() error
}

func startPayoutd(ctx context.Context, dbURL string, o options) (*server, error) {
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := models.Open(openCtx, models.Options{URL: dbURL, MaxOpenConns: 16})
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*server, error) { return nil, errors.Join(err, store.Close()) }
	if _, err := store.Migrate(openCtx); err != nil {
		return fail(err)
	}
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	logger.SetFormatter(&logrus.JSONFormatter{})
	var k [24]byte
	_, _ = rand.Read(k[:])
	key := []byte(hex.EncodeToString(k[:]))

	m := metrics.New()
	m.RegisterBacklog(store.InboxBacklog, time.Now)
	// config.go's defaults.
	pipe, err := webhook.NewPipeline(store, logger, m, webhook.PipelineConfig{
		Handler:   webhook.HandlerConfig{Key: key, Tolerance: 5 * time.Minute, AnswerTimeout: 4 * time.Second},
		Committer: webhook.CommitterConfig{MaxBatch: 256, Workers: 2},
		Applier:   inbox.ApplierConfig{BatchSize: 100, PollInterval: 500 * time.Millisecond, MaxAttempts: 8},
	})
	if err != nil {
		return fail(err)
	}
	pruner, err := inbox.NewPruner(store, logger.WithField("component", "prune"), m.NewPrune(), inbox.PruneConfig{
		RetainBodies: 400 * 24 * time.Hour, BatchSize: o.batch, Pause: o.pause,
	})
	if err != nil {
		pipe.Committer.Close()
		return fail(err)
	}
	router := api.NewRouter(api.Deps{
		Store: store, Metrics: m, Log: logger.WithField("component", "http"), Webhook: pipe.Handler,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pipe.Committer.Close()
		return fail(fmt.Errorf("listen: %w", err))
	}
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second}
	applierCtx, stopApplier := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { pipe.Applier.Run(applierCtx) })
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	stop := func() error {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		err := srv.Shutdown(shutdownCtx)
		pipe.Committer.Close()
		stopApplier()
		wg.Wait()
		if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return errors.Join(err, store.Close())
	}
	return &server{url: "http://" + ln.Addr().String() + "/webhooks/coinflow", key: key, store: store, pruner: pruner, stop: stop}, nil
}
