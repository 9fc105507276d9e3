package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"time"

	"github.com/payoutd/payoutd/models"
)

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// median is the middle of vs (the lower one of an even count).
func median[T cmp.Ordered](vs []T) T {
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return vs[(len(vs)-1)/2]
}

// of is f of each sample.
func of[T any](ss []sample, f func(sample) T) []T {
	out := make([]T, len(ss))
	for i, s := range ss {
		out[i] = f(s)
	}
	return out
}

func took(s sample) time.Duration { return s.took }

// peak is the larger of a sample's VmHWM and its sampled VmRSS.
func peak(s sample) int64 { return max(s.peakRSS, s.rssMax) }

// report prints one size: every run, the medians and their ratio, and the
// last reconciliation in detail.
func report(w io.Writer, r *result) {
	fmt.Fprintf(w, "\nreconcilebench n=%d (database %s; %d CPUs, GOMAXPROCS %d)\n", r.n, r.database, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "  setup (not timed): %s; COPY payouts %s, history %s, VACUUM ANALYZE %s\n", r.loaded.Round(time.Millisecond),
		r.load.payouts.Round(time.Millisecond), r.load.history.Round(time.Millisecond), r.load.vacuum.Round(time.Millisecond))
	for i := range r.paging {
		fmt.Fprintf(w, "  run %d  paging         %s\n", i+1, line(r.n, r.paging[i]))
		if i < len(r.recon) {
			fmt.Fprintf(w, "  run %d  reconciliation %s\n", i+1, line(r.n, r.recon[i]))
		}
	}
	if r.err != nil {
		fmt.Fprintf(w, "  stopped: %v\n", r.err)
		return
	}
	base, run := median(of(r.paging, took)), median(of(r.recon, took))
	ratio := run.Seconds() / base.Seconds()
	rss := slices.Max(of(r.recon, peak))
	fmt.Fprintf(w, "  medians of %d: baseline (paging, %d pages ahead) %s, reconciliation %s: %.2fx the baseline (target <= %.1fx: %s)\n",
		len(r.recon), r.ahead, base.Round(time.Millisecond), run.Round(time.Millisecond), ratio, targetBaseline, verdict(ratio <= targetBaseline))
	fmt.Fprintf(w, "  reconciliation: %.0f records/s, %d allocations and %d B a record; peak RSS at most %s",
		float64(r.n)/run.Seconds(), median(of(r.recon, func(s sample) uint64 { return s.mallocs }))/uint64(r.n),
		median(of(r.recon, func(s sample) uint64 { return s.alloc }))/uint64(r.n), mb(rss))
	if r.n == 1_000_000 {
		fmt.Fprintf(w, " (targets <= %.0f s: %s; <= %s: %s)", targetSeconds, verdict(run.Seconds() <= targetSeconds), mb(targetRSS), verdict(rss <= targetRSS))
	}
	fmt.Fprintln(w)
	if !r.paging[0].hwmSet {
		fmt.Fprintln(w, "  (peak RSS since process start: clear_refs refused)")
	}
	reportRun(w, r)
}

// line is one run's figures.
func line(n int, s sample) string {
	out := fmt.Sprintf("%8s  %7.0f records/s  peak RSS %s (VmRSS before %s, mean %s)  %d allocs, %d B a record, %d GCs",
		s.took.Round(time.Millisecond), float64(n)/s.took.Seconds(), mb(peak(s)), mb(s.rssBase), mb(s.rssMean),
		s.mallocs/uint64(n), s.alloc/uint64(n), s.gcs)
	if c := s.cpu; c.OK {
		out += fmt.Sprintf("  cores: this process %.2f, PostgreSQL %.2f, others %.2f (%.2f before)", c.Self, c.Postgres, c.Other(), s.before)
	}
	return out
}

// reportRun prints the last reconciliation: what it found and wrote.
func reportRun(w io.Writer, r *result) {
	fmt.Fprintf(w, "  last run %s: outcome %s; counts:", r.run.ID, r.run.Outcome)
	for _, k := range slices.Sorted(maps.Keys(r.run.Counts)) {
		fmt.Fprintf(w, " %s=%v", k, r.run.Counts[k])
	}
	fmt.Fprintln(w)
	for _, k := range slices.Sorted(maps.Keys(r.run.Problems)) {
		fmt.Fprintf(w, "  problem %s: %v\n", k, r.run.Problems[k])
	}
	want := map[models.FindingKind]int{models.KindAmountMismatch: r.wantAmounts, models.KindStatusMismatch: r.wantStatuses}
	fmt.Fprintf(w, "  open findings by kind:")
	kinds := slices.Sorted(maps.Keys(r.findings))
	if len(kinds) == 0 {
		fmt.Fprintf(w, " none")
	}
	for _, k := range kinds {
		fmt.Fprintf(w, " %s=%d", k, r.findings[k])
	}
	fmt.Fprintf(w, " (the data holds %s=%d, %s=%d)\n", models.KindAmountMismatch, r.wantAmounts, models.KindStatusMismatch, r.wantStatuses)
	for k, n := range want {
		if r.findings[k] != int64(n) {
			fmt.Fprintf(w, "  WRONG: %d %s findings, want %d\n", r.findings[k], k, n)
		}
	}
	upd, hot := r.dbAfter.updates-r.dbBefore.updates, r.dbAfter.hotUpdates-r.dbBefore.hotUpdates
	fmt.Fprintf(w, "  writes: WAL %s (server-wide); payouts rows updated %d (%d heap-only), payouts table+indexes %s -> %s; %d payout_history rows added; %d Coinflow list calls\n",
		mb(r.wal), upd, hot, mb(r.dbBefore.payoutBytes), mb(r.dbAfter.payoutBytes), r.historyWritten, r.listCalls)
	if r.cpuProfile != "" {
		fmt.Fprintf(w, "  cpu profiles: %s, baseline %s (go tool pprof -top %s)\n", r.cpuProfile, r.pagingProfile, r.cpuProfile)
	}
	if r.sql != nil {
		r.sql.report(w, r.recon[len(r.recon)-1].took, 12)
	}
}

// reportScaling prints how time grew from the smaller run to the larger.
func reportScaling(w io.Writer, small, large *result) {
	if small.err != nil || large.err != nil {
		return
	}
	a, b := median(of(small.recon, took)), median(of(large.recon, took))
	ratio := b.Seconds() / a.Seconds()
	fmt.Fprintf(w, "\nscaling: n=%d %s, n=%d %s: %.1fx the time for %.0fx the records (target <= %.0fx: %s)\n",
		small.n, a.Round(time.Millisecond), large.n, b.Round(time.Millisecond),
		ratio, float64(large.n)/float64(small.n), targetRatio, verdict(ratio <= targetRatio))
}
