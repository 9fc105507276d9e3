package main

import (
	"fmt"
	"io"
	"runtime"
	"text/tabwriter"
	"time"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func mb(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func signedMB(b int64) string { return fmt.Sprintf("%+.1f", float64(b)/(1<<20)) }

// callsPerSecond is the sweep's Coinflow calls per wall-clock second.
func (r *result) callsPerSecond() float64 {
	if r.Took <= 0 {
		return 0
	}
	return float64(r.Sweep.Calls) / r.Took.Seconds()
}

// row is one line of the table: a run, or the medians of several.
type row struct {
	n                     int
	runs                  int
	took                  time.Duration
	calls, changed        int64
	callsPerSec           float64
	throttled             int
	maxKYC, maxNotFound   int
	rssBase, rssPeak      int64
	added, heapUp, liveUp int64
}

func rowOf(r *result) row {
	return row{
		n: r.N, runs: 1, took: r.Took, calls: r.Sweep.Calls, changed: r.Sweep.Changed, callsPerSec: r.callsPerSecond(),
		throttled: r.Limits.Throttled, maxKYC: r.Limits.MaxKYCPerMinute, maxNotFound: r.Limits.MaxNotFoundPer10s,
		rssBase: r.RSSBase, rssPeak: max(r.RSSPeak, r.RSSSample), added: r.Added(),
		heapUp: int64(r.HeapPeak) - int64(r.HeapBase), liveUp: int64(r.LivePeak) - int64(r.LiveBase),
	}
}

// table prints rows under the column names: values never hold a space, so
// a row splits with strings.Fields.
func table(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "n\truns\tsweep s\tcalls\tcalls/s\tchanged\t429s\tmax KYC/min (<=%d)\tmax 404/10s (<=%d)\tRSS base MB\tRSS peak MB\tsweep adds MB\theap +MB\tlive heap +MB\t\n",
		coinflowtest.KYCRateLimit, coinflowtest.NotFoundRateLimit)
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%d\t%.1f\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.n, r.runs, r.took.Seconds(), r.calls, r.callsPerSec,
			r.changed, r.throttled, r.maxKYC, r.maxNotFound, mb(r.rssBase), mb(r.rssPeak), signedMB(r.added), signedMB(r.heapUp), signedMB(r.liveUp))
	}
	_ = tw.Flush()
}

// header says what was measured where.
func header(w io.Writer, r *result) {
	emu := "in this process (its withdrawers and whole-answer buffers count in the RSS figures)"
	if r.Emulator == emulatorProcess {
		emu = "in a child process (RSS is payoutd's alone)"
	}
	fmt.Fprintf(w, "database %s; emulator %s, rate limits enforced; %d CPUs, GOMAXPROCS %d\n", r.Database, emu, r.CPUs, runtime.GOMAXPROCS(0))
}

// report prints one run.
func report(w io.Writer, r *result) {
	fmt.Fprintf(w, "\nkycbench n=%d: %d pending at payoutd; %d approved at Coinflow without a webhook, %d unknown to Coinflow\n",
		r.N, r.N+r.Unknown, r.Approved, r.Unknown)
	header(w, r)
	fmt.Fprintf(w, "setup (not timed) %s: emulator %s, payoutd records %s", r.Setup.Round(time.Millisecond),
		r.EmuSetup.Round(time.Millisecond), r.RecordSetup.Round(time.Millisecond))
	if r.LoadBefore >= 0 {
		fmt.Fprintf(w, "; machine busy %.2f cores in the second before the sweep", r.LoadBefore)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	table(w, []row{rowOf(r)})
	fmt.Fprintln(w)
	details(w, r)
}

// details explains one run's figures under the table.
func details(w io.Writer, r *result) {
	s := r.Sweep
	fmt.Fprintf(w, "calls: 1 list (%d listed, %d pending at the start) + %d lookups (%d not found); the follower waited %s of Coinflow time, "+
		"the limits allow %d lookups in no less than %s; looking every pending withdrawer up one by one would take %s\n",
		s.Listed, s.Pending, s.LookedUp, s.NotFound, r.Slept, r.Unknown, minLookupTime(r.Unknown), perUserTime(r.N+r.Unknown))
	l := r.Limits
	fmt.Fprintf(w, "limits: %d answers 429; at most %d KYC calls in a minute (limit %d), %d not-found answers in 10 s (limit %d); %d KYC calls, %d not-found in all\n",
		l.Throttled, l.MaxKYCPerMinute, coinflowtest.KYCRateLimit, l.MaxNotFoundPer10s, coinflowtest.NotFoundRateLimit, l.KYCCalls, l.NotFound)
	peak := "VmHWM since the baseline"
	if !r.HWMReset {
		peak = "VmHWM since process start (clear_refs refused), or the sampled VmRSS"
	}
	fmt.Fprintf(w, "memory: RSS peak is %s; go heap during the sweep: %.1f MB allocated, %d GCs, objects %s -> %s MB, live %s -> %s MB",
		peak, float64(r.Alloc)/(1<<20), r.GCs, mb(int64(r.HeapBase)), mb(int64(r.HeapPeak)), mb(int64(r.LiveBase)), mb(int64(r.LivePeak)))
	if r.EmuRSS > 0 {
		fmt.Fprintf(w, "; emulator process VmRSS %s MB", mb(r.EmuRSS))
	}
	fmt.Fprintln(w)
	if err := r.problems(); err != nil {
		fmt.Fprintf(w, "PROBLEMS: %v\n", err)
	} else {
		fmt.Fprintln(w, "limits held; changes and lookups as the data holds")
	}
}

// minLookupTime is the least Coinflow time n lookups take at 3 a minute:
// the k-th (from 0) can go at minute k/3.
func minLookupTime(n int) time.Duration {
	if n == 0 {
		return 0
	}
	return time.Duration((n-1)/coinflowtest.KYCRateLimit) * time.Minute
}

// perUserTime is how long asking n withdrawers one by one takes at 3 a
// minute.
func perUserTime(n int) time.Duration {
	return (time.Duration(n) * time.Minute / coinflowtest.KYCRateLimit).Round(time.Minute)
}
