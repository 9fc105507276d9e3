// Command prunebench measures body pruning (inbox.Pruner, config
// inbox.retain_bodies) on PostgreSQL while payoutd keeps storing webhooks.
//
// One run:
//
//  1. makes a fresh database and stores -events webhooks in inbox_events
//     (INSERT ... SELECT generate_series, ~900-byte bodies, applied, received
//     500 days ago: all old enough to prune), then VACUUM ANALYZE, as an old
//     table would be;
//  2. starts payoutd in-process as serve does (router, webhook pipeline,
//     applier) and posts distinct signed "Withdraw Pending" webhooks at
//     -rate per second from -concurrency clients;
//  3. alternates phases of -phase each, -rounds times: without pruning and
//     with the pruner running (batch -batch, pause -pause), in the order
//     off, on, on, off, ... so that neither always comes first;
//  4. prints ingest p50/p99 per phase and overall with and without pruning,
//     the ratio (target: at most 1.5), and pruning throughput in rows/s.
//
// It is a measurement, not a test: it exits 0 whatever the figures; setup
// failures exit 1 and bad flags 2. The database is dropped at the end.
//
//	go run ./cmd/prunebench                              # 1,000,000 events, 4 rounds of 20s + 20s
//	go run ./cmd/prunebench -events 200000 -rounds 2 -phase 10s
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/internal/benchdb"
)

func main() { bench.Main("prunebench", run) }

// targetRatio is the most ingest p99 during pruning may be, over p99
// without it (issue 11).
const targetRatio = 1.5

type options struct {
	databaseURL string
	events      int
	concurrency int
	rate        float64
	phase       time.Duration
	rounds      int
	batch       int
	pause       time.Duration
	waitQuiet   time.Duration
}

func parseFlags(args []string, getenv func(string) string) (options, error) {
	var o options
	fs := bench.NewFlagSet("prunebench")
	fs.StringVar(&o.databaseURL, "database-url", benchdb.AdminURL(getenv), "PostgreSQL admin URL; the run creates and drops its own database there")
	fs.IntVar(&o.events, "events", 1_000_000, "stored events to load, all old enough to prune")
	fs.IntVar(&o.concurrency, "concurrency", 16, "HTTP clients posting webhooks")
	fs.Float64Var(&o.rate, "rate", 500, "webhooks per second the clients together aim at (0: as fast as they can)")
	fs.DurationVar(&o.phase, "phase", 20*time.Second, "length of each phase")
	fs.IntVar(&o.rounds, "rounds", 4, "pairs of phases (one without pruning, one with)")
	fs.IntVar(&o.batch, "batch", 1000, "pruner batch size (index entries and rows per UPDATE)")
	fs.DurationVar(&o.pause, "pause", 20*time.Millisecond, "pruner's least pause after a batch that cleared bodies (it also waits as long as the batch took)")
	fs.DurationVar(&o.waitQuiet, "wait-quiet", 0, "before the run, wait up to this long for the machine to be nearly idle")
	if err := bench.ParseFlags(fs, args); err != nil {
		return o, err
	}
	var errs []string
	if o.events < 1 || o.concurrency < 1 || o.rounds < 1 || o.batch < 1 {
		errs = append(errs, "-events, -concurrency, -rounds and -batch must be at least 1")
	}
	if o.phase <= 0 || o.rate < 0 || o.pause < 0 || o.waitQuiet < 0 {
		errs = append(errs, "-phase must be positive; -rate, -pause and -wait-quiet not negative")
	}
	return o, bench.BadFlags(errs)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted; the database this run created is dropped")
		}
	}()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	gin.SetMode(gin.ReleaseMode)
	o, err := parseFlags(args[1:], getenv)
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "prunebench: "+format+"\n", a...) }

	db, err := benchdb.Create(ctx, o.databaseURL, "prunebench")
	if err != nil {
		return err
	}
	defer db.DropJoin(&err)
	srv, err := startPayoutd(ctx, db.URL, o)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.stop()) }()

	progress("loading %d stored events into %s", o.events, db.Name)
	loaded, err := load(ctx, srv.store, o.events, progress)
	if err != nil {
		return err
	}
	if o.waitQuiet > 0 {
		bench.WaitQuiet(ctx, o.waitQuiet, func(load float64, left time.Duration) {
			progress("machine busy (%.2f cores), waiting up to %s", load, left.Round(time.Second))
		})
	}
	res, err := measure(ctx, srv, o, progress)
	if err != nil {
		return err
	}
	report(stdout, o, loaded, res)
	return nil
}

// phaseResult is one phase: ingestion's latencies, and with pruning on,
// what the pruner did.
type phaseResult struct {
	pruning bool
	lat     []time.Duration // of 200s started in the phase, sorted
	errs    int
	pruned  int64
	active  time.Duration // time the pruner ran
	batches int
	done    bool // the pruner caught up (nothing left to prune)
}

func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	i := int(float64(len(lat))*p+0.999999) - 1
	return lat[min(max(i, 0), len(lat)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func report(w io.Writer, o options, loaded time.Duration, phases []phaseResult) {
	fmt.Fprintf(w, "\nprunebench: %d stored events loaded in %s; ingest %.0f/s target from %d clients; %d rounds of %s without + %s with pruning; batch %d, pause %s; %d CPUs\n",
		o.events, loaded.Round(time.Second), o.rate, o.concurrency, o.rounds, o.phase, o.phase, o.batch, o.pause, runtime.NumCPU())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tpruning\tok\tok/s\tp50\tp99\tmax\terrors\tpruned\tbatches\trows/s\t")
	var all [2][]time.Duration
	var pruned int64
	var active time.Duration
	for i, p := range phases {
		on := 0
		rows := ""
		if p.pruning {
			on = 1
			pruned += p.pruned
			active += p.active
			rows = fmt.Sprintf("%.0f", float64(p.pruned)/p.active.Seconds())
		}
		all[on] = append(all[on], p.lat...)
		fmt.Fprintf(tw, "%d\t%v\t%d\t%.0f\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t\n", i+1, p.pruning, len(p.lat), float64(len(p.lat))/o.phase.Seconds(),
			ms(percentile(p.lat, .5)), ms(percentile(p.lat, .99)), ms(percentile(p.lat, 1)), p.errs, p.pruned, p.batches, rows)
	}
	_ = tw.Flush()
	slices.Sort(all[0])
	slices.Sort(all[1])
	off, on := percentile(all[0], .99), percentile(all[1], .99)
	fmt.Fprintf(w, "\ningest without pruning: %d webhooks, p50 %s, p99 %s\n", len(all[0]), ms(percentile(all[0], .5)), ms(off))
	fmt.Fprintf(w, "ingest during pruning:  %d webhooks, p50 %s, p99 %s\n", len(all[1]), ms(percentile(all[1], .5)), ms(on))
	if off > 0 {
		ratio := float64(on) / float64(off)
		verdict := "within"
		if ratio > targetRatio {
			verdict = "OVER"
		}
		fmt.Fprintf(w, "p99 ratio with/without pruning: %.2f (%s the %.1f target)\n", ratio, verdict, targetRatio)
	}
	if active > 0 {
		fmt.Fprintf(w, "pruning: %d bodies cleared in %s of pruning: %.0f rows/s alongside ingestion\n", pruned, active.Round(time.Millisecond), float64(pruned)/active.Seconds())
	}
	if slices.ContainsFunc(phases, func(p phaseResult) bool { return p.done }) {
		fmt.Fprintln(w, "note: the pruner caught up before the last phase with pruning ended; later such phases had less to do")
	}
}
