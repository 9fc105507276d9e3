// Command kycbench measures one sweep of the KYC follower (package kyc)
// over n withdrawers pending verification, against the Coinflow emulator
// with Coinflow's documented rate limits enforced.
//
// Setup (not timed): a fresh database (an SQLite file in a temporary
// directory, or with -database-url a new PostgreSQL database on that
// server, dropped at the end); n withdrawers registered at the emulator
// (Germany, verification pending) and recorded in payoutd as pending, as
// registration records them (onboard.Record, a transaction per 1,000);
// -approve of them then approved at the emulator without a webhook (the
// emulator sends none), so only the follower can see it; and -unknown
// withdrawers payoutd holds as pending that Coinflow does not know, which
// the list cannot answer: they take the per-withdrawer path (GET /withdraw,
// 404), paced at 3 calls a minute. The follower's Sleep advances payoutd's
// clock and the emulator's together, so minutes of Coinflow time pass in
// no wall time.
//
// It then times one Sweep and reports: wall time; Coinflow calls made and
// per second; withdrawers changed; the emulator's rate-limit counters
// (no 429, at most 3 KYC calls in any minute, at most 10 not-found answers
// in any 10 s: the command fails otherwise); and memory: VmRSS after setup
// (baseline, after a GC), the peak during the sweep (VmHWM, reset after
// setup) and their difference, what the sweep adds, with the Go heap
// sampled every 10ms.
//
//	go run ./cmd/kycbench -n 100000
//	go run ./cmd/kycbench -sizes 10000,100000 -runs 3      # each run in a fresh process, order alternating; medians and the ratio
//	go run ./cmd/kycbench -database-url postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//	go run ./cmd/kycbench -emulator inprocess              # the emulator in this process, as the tests run it
//	go run ./cmd/kycbench -n 100000 -memprofile /tmp/kyc.pprof
//
// The emulator holds the n withdrawers (over 1 KB of heap each) and
// renders the whole list answer into a buffer before sending it (its fault
// layer), so in this process it would dominate the RSS figures: its
// baseline, and the garbage the Go collector lets grow in proportion to
// the live heap. By
// default it therefore runs in a child process (this binary again, driven
// over its /_sim/ control surface) and this process's RSS is payoutd's
// store and follower alone; -emulator inprocess keeps it here.
//
// It exits 0 when the sweep ran within the limits and did what the data
// holds, 1 otherwise or when setup fails, 2 on bad flags.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
)

func main() { bench.Main("kycbench", run) }

// options is the command line.
type options struct {
	n           int
	approve     float64
	unknown     int
	databaseURL string
	emulator    string // "inprocess" or "process"
	sizes       []int
	runs        int
	waitQuiet   time.Duration
	verbose     bool
	batch       int
	memProfile  string

	child         bool // internal: run once and print the result as JSON
	serveEmulator bool // internal: be the emulator child of -emulator process
}

const (
	emulatorInProcess = "inprocess"
	emulatorProcess   = "process"
)

func parseFlags(args []string) (options, error) {
	var o options
	fs := bench.NewFlagSet("kycbench")
	fs.IntVar(&o.n, "n", 100_000, "withdrawers pending verification known to both payoutd and Coinflow")
	fs.Float64Var(&o.approve, "approve", 0.10, "fraction of them approved at Coinflow before the sweep (no webhook)")
	fs.IntVar(&o.unknown, "unknown", 20, "withdrawers payoutd holds as pending that Coinflow does not know (looked up one by one, 404)")
	fs.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL admin URL: the run creates and drops its own database there (default: an SQLite file in a temporary directory)")
	fs.StringVar(&o.emulator, "emulator", emulatorProcess, "where the Coinflow emulator runs: process (a child process, so that RSS is payoutd's alone) or inprocess")
	sizes := fs.String("sizes", "", "comma-separated sizes (e.g. 10000,100000): run each -runs times in a fresh child process, order alternating, and print medians")
	fs.IntVar(&o.runs, "runs", 3, "with -sizes: runs per size")
	fs.DurationVar(&o.waitQuiet, "wait-quiet", 10*time.Second, "before the sweep, wait up to this long for the machine to be nearly idle (it may be shared)")
	fs.BoolVar(&o.verbose, "v", false, "show the follower's log")
	fs.IntVar(&o.batch, "setup-batch", 1000, "withdrawers recorded per transaction during setup")
	fs.StringVar(&o.memProfile, "memprofile", "", "write the heap profile at the sweep's largest live heap to this file (go tool pprof -sample_index=inuse_space)")
	fs.BoolVar(&o.child, "child", false, "internal (-sizes): run once and print the result as JSON")
	fs.BoolVar(&o.serveEmulator, "serve-emulator", false, "internal (-emulator process): serve the emulator for -n, -approve")
	if err := bench.ParseFlags(fs, args); err != nil {
		return o, err
	}
	var errs []string
	if o.n < 1 || o.unknown < 0 || o.batch < 1 {
		errs = append(errs, "-n and -setup-batch must be at least 1, -unknown not negative")
	}
	if o.approve < 0 || o.approve > 1 {
		errs = append(errs, "-approve must be a fraction between 0 and 1")
	}
	if o.emulator != emulatorInProcess && o.emulator != emulatorProcess {
		errs = append(errs, "-emulator must be inprocess or process")
	}
	if o.databaseURL != "" && !strings.HasPrefix(o.databaseURL, "postgres://") && !strings.HasPrefix(o.databaseURL, "postgresql://") {
		errs = append(errs, "-database-url must be a postgres:// URL (leave it out for SQLite)")
	}
	if o.runs < 1 || o.waitQuiet < 0 {
		errs = append(errs, "-runs must be at least 1 and -wait-quiet not negative")
	}
	if *sizes != "" {
		for s := range strings.SplitSeq(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil || n < 1 {
				errs = append(errs, fmt.Sprintf("-sizes: %q is not a positive size", s))
				continue
			}
			o.sizes = append(o.sizes, n)
		}
	}
	return o, bench.BadFlags(errs)
}

func run(ctx context.Context, args []string, _ func(string) string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	o, err := parseFlags(args[1:])
	if err != nil {
		return err
	}
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "kycbench: "+format+"\n", a...) }
	switch {
	case o.serveEmulator:
		return serveEmulator(ctx, o, os.Stdin, stdout)
	case len(o.sizes) > 0:
		return runSizes(ctx, o, stdout, stderr, progress)
	}
	res, err := benchOnce(ctx, o, progress)
	if err != nil {
		return err
	}
	if o.child {
		return json.NewEncoder(stdout).Encode(res)
	}
	report(stdout, res)
	return res.problems()
}
