package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/initiate"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
	"github.com/payoutd/payoutd/reconcile"
	"github.com/payoutd/payoutd/scheduler"
	"github.com/payoutd/payoutd/webhook"
)

// serveCommand runs the daemon: the API, the webhook endpoint, the
// applier, alerting and, with a Coinflow API key, initiation and the
// reconciliation schedule.
func serveCommand(*flag.FlagSet) action {
	return func(ctx context.Context, e env) error { return serve(ctx, e.cfg, e.log) }
}

func serve(ctx context.Context, cfg Config, logger *logrus.Logger) error {
	log := logger.WithField("component", "main")
	store, _, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()

	m := metrics.New()
	m.RegisterBuildInfo(buildVersion().metric())
	m.RegisterBacklog(store.InboxBacklog, time.Now)
	alerts, err := newAlerts(cfg, store, logger, m)
	if err != nil {
		return err
	}
	warnUnsignedAlerts(cfg, log)
	pipe, err := webhook.NewPipeline(store, logger, m, webhook.PipelineConfig{
		Handler: webhook.HandlerConfig{
			Key: []byte(cfg.Coinflow.WebhookKey.Value()), PreviousKey: []byte(cfg.Coinflow.WebhookPreviousKey.Value()),
			Tolerance:     cfg.Coinflow.SignatureTolerance.D(),
			AnswerTimeout: cfg.Webhook.AnswerTimeout.D(),
		},
		Committer: webhook.CommitterConfig{MaxBatch: cfg.Webhook.CommitMaxBatch, Workers: cfg.Webhook.CommitWorkers},
		Applier: inbox.ApplierConfig{
			BatchSize: cfg.Applier.BatchSize, Workers: cfg.Applier.Workers,
			PollInterval: cfg.Applier.PollInterval.D(), MaxAttempts: cfg.Applier.MaxAttempts,
		},
	})
	if err != nil {
		return err
	}
	var (
		initiator  *initiate.Service
		ob         *onboard.Service
		reconciler *reconcile.Reconciler
	)
	sched := scheduler.New(logger.WithField("component", "scheduler"), scheduler.DBLeaser{Store: store}, holderName())
	cfm := newCoinflowMetrics(m)
	if cf, err := coinflowClient(cfg, cfm); err == nil {
		if ob, err = newOnboard(cfg, store, cf, logger); err != nil {
			return err
		}
		if initiator, err = initiate.New(store, cf, ob, logger.WithField("component", "initiate"), initiate.Config{}); err != nil {
			return err
		}
		follower, err := newFollower(cfg, store, logger, m, cfm)
		if err != nil {
			return err
		}
		// A run's findings are announced as soon as it is recorded, not at
		// the dispatcher's next tick.
		if reconciler, err = newReconciler(cfg, store, cf, logger, m, func(*models.ReconcileRun) { alerts.Kick() }); err != nil {
			return err
		}
		if err := sched.Add(scheduler.Job{
			Name: "reconcile", Schedule: cfg.Reconcile.Schedule, Timeout: cfg.Reconcile.Timeout.D(),
			Run: func(ctx context.Context) error {
				_, err := reconciler.RunOnce(ctx, "schedule")
				return err
			},
		}); err != nil {
			return err
		}
		if err := sched.Add(scheduler.Job{
			Name: "kyc", Schedule: cfg.KYC.PollSchedule, Timeout: 10 * time.Minute,
			Run: func(ctx context.Context) error {
				_, err := follower.Sweep(ctx)
				return err
			},
		}); err != nil {
			return err
		}
	} else {
		log.WithError(err).Warn("payout initiation and reconciliation are off")
	}
	pruner, err := inbox.NewPruner(store, logger.WithField("component", "prune"), m.NewPrune(),
		inbox.PruneConfig{RetainBodies: cfg.Inbox.RetainBodies.D()})
	if err != nil {
		return err
	}
	if err := sched.Add(scheduler.Job{
		Name: "inbox-prune", Schedule: "@every 10m", Timeout: 9 * time.Minute,
		Run: func(ctx context.Context) error { _, err := pruner.Run(ctx); return err },
	}); err != nil {
		return err
	}
	router := api.NewRouter(api.Deps{
		Store: store, Metrics: m, Log: logger.WithField("component", "http"), Webhook: pipe.Handler,
		Initiator: initiator, Onboard: ob, Reconciler: reconciler, Replayer: pipe.Applier,
		Tokens: apiTokens(cfg), TrustedProxies: cfg.TrustedProxies,
		SecureCookies: dashboard.SecureCookies(cfg.Dashboard.SecureCookies, cfg.Listen),
		RateLimit: api.RateLimit{
			APIPerSecond: cfg.RateLimit.APIPerSecond, APIBurst: cfg.RateLimit.APIBurst, LoginsPerMinute: cfg.RateLimit.LoginPerMinute,
		},
	})

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		pipe.Committer.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{
		Handler: router, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second, MaxHeaderBytes: 64 << 10,
	}
	applierCtx, stopApplier := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { pipe.Applier.Run(applierCtx) })
	wg.Go(func() { alerts.Run(applierCtx) })

	if sched != nil {
		sched.Start()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.WithFields(logrus.Fields{
		"addr": ln.Addr().String(), "dialect": store.Dialect(),
		"webhook_key_set": cfg.Coinflow.WebhookKey != "", "api_token_set": cfg.API.Token != "", "api_tokens": len(cfg.API.Tokens),
	}).Info("payoutd listening")

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
		log.WithError(err).Error("http server stopped")
	}
	// Drain in-flight requests first: each is waiting for its commit, which
	// the committer must still serve. Then stop the committer and the
	// applier (which finishes its batch), and close the database.
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout.D())
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil {
		log.WithError(serr).Warn("http shutdown")
	}
	pipe.Committer.Close()
	if sched != nil {
		sched.Stop(shutdownCtx)
	}
	stopApplier()
	wg.Wait()
	log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// apiTokens are api.token, as principal.APIToken, and every api.tokens
// entry under its name; an empty api.token is left out.
func apiTokens(cfg Config) []principal.Token {
	var ts []principal.Token
	if cfg.API.Token != "" {
		ts = append(ts, principal.Token{Name: principal.APIToken, Secret: []byte(cfg.API.Token.Value())})
	}
	for _, t := range cfg.API.Tokens {
		ts = append(ts, principal.Token{Name: t.Name, Secret: []byte(t.Token.Value())})
	}
	return ts
}
