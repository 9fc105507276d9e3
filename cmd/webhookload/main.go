// Command webhookload measures payoutd's webhook ingestion end to end: how
// fast it stores Coinflow webhooks durably against the same database's
// simplest durable write, and whether the applier keeps up with them.
//
// It runs -rounds rounds (default 3), each of three phases in turn, so that
// a drift of the machine touches every phase alike:
//
//  1. the baseline: -concurrency goroutines (32), each doing single-row
//     INSERT ... ON CONFLICT DO NOTHING autocommit transactions of
//     ~900-byte bodies into a fresh database, for -burst. On PostgreSQL one
//     connection each; with -sqlite into a fresh SQLite file opened as
//     payoutd opens its own (WAL, synchronous=FULL, one connection).
//  2. the burst: payoutd (the real router, webhook pipeline and store on a
//     fresh migrated database, served by net/http on 127.0.0.1, applier
//     running) and -concurrency senders posting distinct signed
//     "Withdraw Pending" webhooks over keep-alive connections, each sending
//     again as soon as it has its answer (a closed loop), for -burst. Only
//     200s count. It gives accepted/s, the ratio to the round's baseline and
//     the ingest p99.
//  3. the steady phase: a new payoutd on a new database, offered the round's
//     baseline rate for -steady as an open loop: sends are due at fixed
//     intervals whatever the answers, on up to -max-in-flight senders, and
//     one that cannot start on time is counted. It gives the events applied
//     per second of the window, the accept→applied lag of the events
//     accepted in it (processed_at − received_at from inbox_events; one not
//     yet applied counts with the lag it has when the inbox is read) and the
//     backlog at the window's end; then it waits up to -drain-wait for the
//     backlog to drain.
//
// Each phase has -warmup of unmeasured load first. It prints a table per
// round, the medians and spread (min–max) over the rounds against the
// targets, and last one line for scripts:
//
//	webhookload: accepted A/s, baseline B/s, ratio R, p99 P ms, steady B/s applied C/s, lag p99 L ms, backlog N
//
// It exits 0 whatever the figures (it is a measurement, not a test); setup
// failures exit 1 and bad flags 2. The databases it creates are dropped at
// the end.
//
//	go run ./cmd/webhookload                                   # 3 rounds of 30 s + 30 s + 60 s
//	go run ./cmd/webhookload -rounds 1 -burst 5s -steady 5s -warmup 1s
//	go run ./cmd/webhookload -sqlite                           # SQLite: payoutd and the baseline
//	go run ./cmd/webhookload -target http://127.0.0.1:8080 -key "$KEY"   # baseline and burst only
//	go run ./cmd/webhookload -cpuprofile /tmp/payoutd.pprof    # the first round's burst
//
// The machine may be shared: -wait-quiet waits for it to be idle before each
// phase, and the tables show the CPU used by this process, by PostgreSQL
// for the phase's database, and by everything else. Experiments with the
// in-process payoutd's settings, without changing its code:
//
//	-commit-workers, -commit-max-batch, -max-open-conns, -log-level  as in config.yaml
//	-applier=false, -appliers N, -applier-batch N                    the applier beside the load
//	-drain 30s [-drain-cpuprofile FILE]                              time the applier on the burst's backlog afterwards
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

// targetRSS is the most payoutd may hold idle.
const targetRSS = 50 << 20

// options is the command line.
type options struct {
	databaseURL string
	rounds      int
	concurrency int
	burst       time.Duration
	steady      time.Duration
	warmup      time.Duration
	maxInFlight int
	steadyRate  float64
	drainWait   time.Duration
	target      string
	key         string
	sqlite      bool
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
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of baseline, burst and steady phases; the figures are their medians")
	fs.IntVar(&o.concurrency, "concurrency", 32, "closed-loop writers of the baseline and the burst (connections for the baseline, HTTP senders for payoutd)")
	fs.DurationVar(&o.burst, "burst", 30*time.Second, "measured time of the baseline and of the burst (the issue asks for 30-60s)")
	fs.DurationVar(&o.steady, "steady", 60*time.Second, "measured time of the steady phase, offered the round's baseline rate")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each phase's measurement")
	fs.Float64Var(&o.steadyRate, "steady-rate", 0, "steady phase: events/s to offer (0: the round's baseline rate, as the issue's target asks); a fixed rate shows what the machine sustains")
	fs.IntVar(&o.maxInFlight, "max-in-flight", 1024, "steady phase: most sends in flight at once; a send with none free starts late")
	fs.DurationVar(&o.drainWait, "drain-wait", 2*time.Minute, "after the steady phase, wait up to this long for the backlog to drain before stopping payoutd")
	fs.StringVar(&o.target, "target", "", "an already running payoutd (base URL or the webhook URL) instead of an in-process one; needs -key")
	fs.StringVar(&o.key, "key", "", "the -target's webhook validation key")
	fs.BoolVar(&o.sqlite, "sqlite", false, "run the baseline and the in-process payoutd on fresh SQLite files instead of PostgreSQL")
	fs.DurationVar(&o.waitQuiet, "wait-quiet", 0, "before each phase, wait up to this long for the machine to be nearly idle (it may be shared)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (server and load generator) during the first round's burst")
	fs.IntVar(&o.commitWorkers, "commit-workers", 0, "in-process payoutd: webhook.commit_workers (0: by the database, as serve)")
	fs.IntVar(&o.commitMaxBatch, "commit-max-batch", 256, "in-process payoutd: webhook.commit_max_batch")
	fs.IntVar(&o.maxOpenConns, "max-open-conns", 16, "in-process payoutd: database.max_open_conns")
	fs.BoolVar(&o.applier, "applier", true, "in-process payoutd: run the applier as serve does")
	fs.IntVar(&o.appliers, "appliers", 0, "in-process payoutd: applier.workers (0: by the database, as serve)")
	fs.IntVar(&o.applierBatch, "applier-batch", 100, "in-process payoutd: applier.batch_size")
	fs.DurationVar(&o.drain, "drain", 0, "in-process payoutd: after each burst, time the applier working off the backlog for up to this long")
	fs.StringVar(&o.drainProfile, "drain-cpuprofile", "", "with -drain: write a CPU profile of the first round's drain")
	fs.BoolVar(&o.claimIndex, "claim-index", false, "experiment (PostgreSQL): add an index on inbox_events (id) WHERE status = 'pending' to the run's database, matching the applier's claim order")
	fs.StringVar(&o.logLevel, "log-level", "info", "in-process payoutd: log.level (logs are JSON-formatted, then discarded)")
	fs.StringVar(&o.idleRSS, "idle-rss", "", "instead of load: start this payoutd binary idle on SQLite and on PostgreSQL and report VmRSS")
	fs.DurationVar(&o.idleWait, "idle-wait", 10*time.Second, "with -idle-rss: how long payoutd idles before VmRSS is read")
	fs.StringVar(&o.idleListen, "idle-listen", "127.0.0.1:18181", "with -idle-rss: PAYOUTD_LISTEN for the binary")
	if err := bench.ParseFlags(fs, args); err != nil {
		return o, err
	}
	var errs []string
	if o.steadyRate < 0 {
		errs = append(errs, "-steady-rate must not be negative")
	}
	if o.rounds < 1 || o.concurrency < 1 || o.maxInFlight < 1 {
		errs = append(errs, "-rounds, -concurrency and -max-in-flight must be at least 1")
	}
	if o.burst <= 0 || o.steady <= 0 || o.idleWait <= 0 || o.warmup < 0 || o.drain < 0 || o.drainWait < 0 || o.waitQuiet < 0 {
		errs = append(errs, "-burst, -steady and -idle-wait must be positive; -warmup, -drain, -drain-wait and -wait-quiet not negative")
	}
	if o.target != "" && o.key == "" {
		errs = append(errs, "-target needs -key")
	}
	if _, err := webhookURL(o.target); o.target != "" && err != nil {
		errs = append(errs, err.Error())
	}
	if o.target != "" && (o.sqlite || o.cpuProfile != "") {
		errs = append(errs, "-sqlite and -cpuprofile apply to the in-process payoutd, not to -target")
	}
	if o.claimIndex && (o.sqlite || o.target != "") {
		errs = append(errs, "-claim-index applies to the in-process payoutd on PostgreSQL only")
	}
	if o.commitWorkers < 0 || o.appliers < 0 || o.commitMaxBatch < 1 || o.maxOpenConns < 1 || o.applierBatch < 1 {
		errs = append(errs, "-commit-max-batch, -max-open-conns and -applier-batch must be at least 1; -commit-workers and -appliers not negative (0: by the database)")
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

	header(stdout, o)
	events := newEventFactory(time.Now())
	rounds := make([]round, 0, o.rounds)
	for i := range o.rounds {
		rd, err := runRound(ctx, o, i, events, progress)
		if err != nil {
			return err
		}
		rounds = append(rounds, rd)
		reportRound(stdout, o, i, rd)
	}
	reportMedians(stdout, o, rounds)
	return nil
}

// runRound measures the baseline, then the burst, then the steady phase at
// the rate the baseline reached.
func runRound(ctx context.Context, o options, i int, events *eventFactory, progress func(string, ...any)) (rd round, err error) {
	name := fmt.Sprintf("round %d of %d", i+1, o.rounds)
	quiet := func() float64 { return waitQuiet(ctx, o.waitQuiet, progress) }

	load := quiet()
	progress("%s: baseline, %d writers, warm-up %s, measuring %s", name, o.concurrency, o.warmup, o.burst)
	if rd.baseline, err = runBaseline(ctx, o, events); err != nil {
		return rd, err
	}
	rd.baseline.before = load

	load = quiet()
	progress("%s: burst, %d senders, warm-up %s, measuring %s", name, o.concurrency, o.warmup, o.burst)
	burst := phase{name: "burst", window: o.burst, drain: o.drain}
	if i == 0 { // a profile file holds one profile: the first round's
		burst.cpuProfile, burst.drainProfile = o.cpuProfile, o.drainProfile
	}
	if rd.burst, err = runPayoutd(ctx, o, burst, events, progress); err != nil {
		return rd, err
	}
	rd.burst.before = load

	if o.target != "" {
		return rd, nil // the steady phase's figures are in the outside payoutd's database
	}
	rate := rd.baseline.rate()
	if o.steadyRate > 0 {
		rate = o.steadyRate
	}
	if rate <= 0 {
		return rd, fmt.Errorf("%s: the baseline stored nothing, so there is no rate to offer", name)
	}
	load = quiet()
	progress("%s: steady, %.0f events/s offered, warm-up %s, measuring %s", name, rate, o.warmup, o.steady)
	steady := phase{name: "steady", window: o.steady, rate: rate, drain: o.drainWait}
	if rd.steady, err = runPayoutd(ctx, o, steady, events, progress); err != nil {
		return rd, err
	}
	rd.steady.before = load
	return rd, nil
}
