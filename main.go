// Command payoutd tracks merchant-initiated Coinflow payouts: it stores
// Coinflow's payout and KYC webhooks durably exactly once, applies them to
// its record of payouts and withdrawers, and serves that record to finance.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/initiate"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/reconcile"
	"github.com/payoutd/payoutd/scheduler"
	"github.com/payoutd/payoutd/webhook"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "payoutd:", err)
		os.Exit(exitCode(err))
	}
}

// usageError is a bad command line: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func exitCode(err error) int {
	if _, ok := errors.AsType[usageError](err); ok {
		return 2
	}
	if e, ok := errors.AsType[exitError](err); ok {
		return e.code
	}
	return 1
}

const usage = "usage: payoutd [serve|migrate|reconcile --once [--fail-on-findings]|report --from DATE --to DATE [--format csv|json]|sim|demo] [--config PATH]"

// run is the whole program; main only maps its error to an exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		cmd, rest = rest[0], rest[1:]
	}
	fs := flag.NewFlagSet("payoutd "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configPath := fs.String("config", "config.yaml", "path to the configuration file")
	var simf simFlags
	var reportf reportFlags
	var once, failOnFindings bool
	switch cmd {
	case "serve", "migrate", "demo":
	case "reconcile":
		fs.BoolVar(&once, "once", false, "run every check once and exit")
		fs.BoolVar(&failOnFindings, "fail-on-findings", false, "exit 3 when open findings of severity error remain")
	case "sim":
		simf.register(fs)
	case "report":
		reportf.register(fs)
	default:
		return usageError{fmt.Sprintf("unknown command %q; %s", cmd, usage)}
	}
	if err := fs.Parse(rest); err != nil {
		return usageError{flagError(err)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q; %s", fs.Arg(0), usage)}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	cfg, err := loadConfig(*configPath, explicit, getenv)
	if err != nil {
		return usageError{strings.ReplaceAll("config: "+err.Error(), "\n", "; ")}
	}
	log := newLogger(cfg, stderr)

	switch cmd {
	case "migrate":
		return migrate(ctx, cfg, log, stdout)
	case "report":
		from, to, err := reportf.check()
		if err != nil {
			return err
		}
		return reportCommand(ctx, cfg, stdout, from, to, reportf.format)
	case "sim":
		return sim(ctx, simf, log.WithField("component", "sim"), stdout)
	case "demo":
		if !explicit && getenv("PAYOUTD_LOG_LEVEL") == "" {
			log.SetLevel(logrus.ErrorLevel) // the demo prints its own summary
		}
		return demoCommand(ctx, cfg, log, stdout)
	case "reconcile":
		if !once {
			return usageError{"reconcile needs --once (the daemon runs it on its schedule); " + usage}
		}
		return reconcileOnce(ctx, cfg, log, stdout, failOnFindings)
	default:
		return serve(ctx, cfg, log)
	}
}

// flagError names the flag in one line.
func flagError(err error) string {
	msg := err.Error()
	if errors.Is(err, flag.ErrHelp) {
		return usage
	}
	return msg + "; " + usage
}

func newLogger(cfg Config, out io.Writer) *logrus.Logger {
	l := logrus.New()
	l.SetOutput(out)
	level, _ := logrus.ParseLevel(cfg.Log.Level)
	l.SetLevel(level)
	format := cfg.Log.Format
	if format == "auto" {
		format = "json"
		if f, ok := out.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "json" {
		l.SetFormatter(&logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano})
	} else {
		l.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: time.RFC3339})
	}
	return l
}

func openStore(ctx context.Context, cfg Config) (*models.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return models.Open(ctx, models.Options{URL: cfg.Database.URL.Value(), MaxOpenConns: cfg.Database.MaxOpenConns})
}

func migrate(ctx context.Context, cfg Config, log *logrus.Logger, stdout io.Writer) error {
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	v, err := store.MigrationVersion(ctx)
	if err != nil {
		return err
	}
	log.WithFields(logrus.Fields{"dialect": store.Dialect(), "applied": applied, "version": v}).Info("migrated")
	fmt.Fprintf(stdout, "database (%s) at migration version %d; applied %d now\n", store.Dialect(), v, len(applied))
	return nil
}

func serve(ctx context.Context, cfg Config, logger *logrus.Logger) error {
	log := logger.WithField("component", "main")
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.Migrate(ctx); err != nil {
		return err
	}

	m := metrics.New()
	m.RegisterBacklog(store.InboxBacklog, time.Now)
	alerts, err := newAlerts(cfg, store, logger, m)
	if err != nil {
		return err
	}
	pipe := webhook.NewPipeline(store, logger, m, webhook.PipelineConfig{
		Handler: webhook.HandlerConfig{
			Key: []byte(cfg.Coinflow.WebhookKey.Value()), Tolerance: cfg.Coinflow.SignatureTolerance.D(),
			AnswerTimeout: cfg.Webhook.AnswerTimeout.D(),
		},
		Committer: webhook.CommitterConfig{MaxBatch: cfg.Webhook.CommitMaxBatch, Workers: cfg.Webhook.CommitWorkers},
		Applier: inbox.ApplierConfig{
			BatchSize: cfg.Applier.BatchSize, PollInterval: cfg.Applier.PollInterval.D(), MaxAttempts: cfg.Applier.MaxAttempts,
		},
	})
	var (
		initiator  *initiate.Service
		reconciler *reconcile.Reconciler
		sched      *scheduler.Scheduler
	)
	if cf, err := coinflowClient(cfg); err == nil {
		initiator = initiate.New(store, cf, logger.WithField("component", "initiate"), initiate.Config{})
		reconciler = newReconciler(cfg, store, cf, logger, m)
		sched = scheduler.New(logger.WithField("component", "scheduler"), scheduler.DBLeaser{Store: store}, holderName())
		if err := sched.Add(scheduler.Job{
			Name: "reconcile", Schedule: cfg.Reconcile.Schedule, Timeout: cfg.Reconcile.Timeout.D(),
			Run: func(ctx context.Context) error {
				_, err := reconciler.RunOnce(ctx, "schedule")
				alerts.Kick() // announce the run's findings now, not at the next tick
				return err
			},
		}); err != nil {
			return err
		}
	} else {
		log.WithError(err).Warn("payout initiation and reconciliation are off")
	}
	router := api.NewRouter(api.Deps{
		Store: store, Metrics: m, Log: logger.WithField("component", "http"), Webhook: pipe.Handler,
		APIToken: []byte(cfg.API.Token.Value()), Initiator: initiator, Reconciler: reconciler,
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
		"webhook_key_set": cfg.Coinflow.WebhookKey != "", "api_token_set": cfg.API.Token != "",
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
