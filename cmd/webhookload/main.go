// Command webhookload measures how fast payoutd stores Coinflow webhooks
// durably, against what the same PostgreSQL server does for the simplest
// durable write there is.
//
// One run measures, at the same concurrency and for the same duration:
//
//  1. the baseline: N goroutines, each on its own connection, doing
//     single-row INSERT ... ON CONFLICT DO NOTHING autocommit transactions
//     of ~900-byte bodies into a fresh database;
//  2. payoutd: the real router, webhook pipeline (committer and applier) and
//     store on a fresh migrated database, served by net/http on 127.0.0.1,
//     and N goroutines posting distinct signed "Withdraw Pending" webhooks
//     over keep-alive connections. Only 200s count.
//
// It prints both, the ratio payoutd/baseline and the targets, and exits 0
// whatever the figures (it is a measurement, not a test); setup failures
// exit 1 and bad flags 2. The databases it creates are dropped at the end.
//
//	go run ./cmd/webhookload -concurrency 32 -duration 15s
//	go run ./cmd/webhookload -sqlite                 # payoutd on SQLite; the baseline stays PostgreSQL
//	go run ./cmd/webhookload -target http://127.0.0.1:8080 -key "$KEY"
//	go run ./cmd/webhookload -cpuprofile /tmp/payoutd.pprof
//
// The machine may be shared: -wait-quiet waits for it to be idle before each
// phase, and the table shows the CPU used by this process, by PostgreSQL for
// the run's database, and by everything else. Experiments with the
// in-process payoutd's settings, without changing its code:
//
//	-commit-workers, -commit-max-batch, -max-open-conns, -log-level  as in config.yaml
//	-applier=false, -appliers N, -applier-batch N                    the applier beside the load
//	-drain 30s [-drain-cpuprofile FILE]                              time the applier on the backlog afterwards
//	-claim-index                                                     add an index matching the applier's claim order
//
// Idle memory: build payoutd and let webhookload start the real binary, once
// on the embedded SQLite default (in an empty temporary directory) and once
// on a fresh PostgreSQL database, wait while it idles and read VmRSS from
// /proc/<pid>/status:
//
//	go build -o /tmp/payoutd . && go run ./cmd/webhookload -idle-rss /tmp/payoutd
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/internal/benchdb"
)

func main() { bench.Main("webhookload", run) }

// Targets payoutd is held to.
const (
	targetRate  = 3000.0
	targetP99   = 50 * time.Millisecond
	targetRatio = 0.6
	targetRSS   = 50 << 20
)

// options is the command line.
type options struct {
	databaseURL string
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	target      string
	key         string
	sqlite      bool
	baseline    bool
	cpuProfile  string
	waitQuiet   time.Duration

	commitWorkers  int
	commitMaxBatch int
	maxOpenConns   int
	applier        bool
	appliers       int
	applierBatch   int
	drain          time.Duration
	drainProfile   string
	claimIndex     bool
	logLevel       string

	idleRSS    string
	idleWait   time.Duration
	idleListen string
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	fs := bench.NewFlagSet("webhookload")
	fs.StringVar(&o.databaseURL, "database-url", benchdb.AdminURL(getenv), "PostgreSQL admin URL; the run creates and drops its own databases there")
	fs.IntVar(&o.concurrency, "concurrency", 32, "concurrent writers (connections for the baseline, HTTP clients for payoutd)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per phase")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each phase's measurement")
	fs.StringVar(&o.target, "target", "", "an already running payoutd (base URL or the webhook URL) instead of an in-process one; needs -key")
	fs.StringVar(&o.key, "key", "", "the -target's webhook validation key")
	fs.BoolVar(&o.sqlite, "sqlite", false, "run the in-process payoutd on an SQLite file (the baseline stays PostgreSQL)")
	fs.BoolVar(&o.baseline, "baseline", true, "measure the PostgreSQL baseline (false: payoutd only, no ratio)")
	fs.DurationVar(&o.waitQuiet, "wait-quiet", 0, "before each phase, wait up to this long for the machine to be nearly idle (it may be shared)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (server and load generator) during payoutd's measurement")
	fs.IntVar(&o.commitWorkers, "commit-workers", 2, "in-process payoutd: webhook.commit_workers")
	fs.IntVar(&o.commitMaxBatch, "commit-max-batch", 256, "in-process payoutd: webhook.commit_max_batch")
	fs.IntVar(&o.maxOpenConns, "max-open-conns", 16, "in-process payoutd: database.max_open_conns")
	fs.BoolVar(&o.applier, "applier", true, "in-process payoutd: run the applier as serve does")
	fs.IntVar(&o.appliers, "appliers", 1, "in-process payoutd: appliers running (serve runs 1; more is an experiment)")
	fs.IntVar(&o.applierBatch, "applier-batch", 100, "in-process payoutd: applier.batch_size")
	fs.DurationVar(&o.drain, "drain", 0, "in-process payoutd: after the load, time the applier working off the backlog for up to this long")
	fs.StringVar(&o.drainProfile, "drain-cpuprofile", "", "with -drain: write a CPU profile of the drain")
	fs.BoolVar(&o.claimIndex, "claim-index", false, "experiment (PostgreSQL): add an index on inbox_events (id) WHERE status = 'pending' to the run's database, matching the applier's claim order")
	fs.StringVar(&o.logLevel, "log-level", "info", "in-process payoutd: log.level (logs are JSON-formatted, then discarded)")
	fs.StringVar(&o.idleRSS, "idle-rss", "", "instead of load: start this payoutd binary idle on SQLite and on PostgreSQL and report VmRSS")
	fs.DurationVar(&o.idleWait, "idle-wait", 10*time.Second, "with -idle-rss: how long payoutd idles before VmRSS is read")
	fs.StringVar(&o.idleListen, "idle-listen", "127.0.0.1:18181", "with -idle-rss: PAYOUTD_LISTEN for the binary")
	if err := bench.ParseFlags(fs, args); err != nil {
		return o, err
	}
	var errs []string
	if o.concurrency < 1 {
		errs = append(errs, "-concurrency must be at least 1")
	}
	if o.duration <= 0 || o.warmup < 0 || o.idleWait <= 0 || o.drain < 0 || o.waitQuiet < 0 {
		errs = append(errs, "-duration and -idle-wait must be positive; -warmup, -drain and -wait-quiet not negative")
	}
	if o.target != "" && o.key == "" {
		errs = append(errs, "-target needs -key")
	}
	if o.target != "" && (o.sqlite || o.cpuProfile != "") {
		errs = append(errs, "-sqlite and -cpuprofile apply to the in-process payoutd, not to -target")
	}
	if o.claimIndex && (o.sqlite || o.target != "") {
		errs = append(errs, "-claim-index applies to the in-process payoutd on PostgreSQL only")
	}
	if o.commitWorkers < 1 || o.commitMaxBatch < 1 || o.maxOpenConns < 1 || o.appliers < 1 || o.applierBatch < 1 {
		errs = append(errs, "-commit-workers, -commit-max-batch, -max-open-conns, -appliers and -applier-batch must be at least 1")
	}
	switch o.logLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, "-log-level must be debug, info, warn or error")
	}
	return o, bench.BadFlags(errs)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	// Cleanups ran on the way out, so by the time this is said the
	// databases are gone.
	defer func() {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; the databases this run created are dropped")
		}
	}()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	gin.SetMode(gin.ReleaseMode)
	o, err := parseFlags(args[1:], getenv)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "webhookload: "+format+"\n", a...) }
	if o.idleRSS != "" {
		return idleRSS(ctx, o, stdout, progress)
	}

	events := newEventFactory(time.Now())
	var base *result
	if o.baseline {
		load := waitQuiet(ctx, o.waitQuiet, progress)
		progress("baseline: %d connections, warm-up %s, measuring %s", o.concurrency, o.warmup, o.duration)
		if base, err = runBaseline(ctx, o, events); err != nil {
			return err
		}
		base.before = load
	}
	load := waitQuiet(ctx, o.waitQuiet, progress)
	progress("payoutd: %d HTTP clients, warm-up %s, measuring %s", o.concurrency, o.warmup, o.duration)
	p, err := runPayoutd(ctx, o, events, progress)
	if err != nil {
		return err
	}
	p.before = load
	report(stdout, o, base, p)
	return nil
}
