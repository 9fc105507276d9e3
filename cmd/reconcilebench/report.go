package main

import (
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

// report prints one run.
func report(w io.Writer, r *result) {
	fmt.Fprintf(w, "\nreconcilebench n=%d (database %s; %d CPUs, GOMAXPROCS %d)\n", r.n, r.database, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "  setup (not timed): %s; COPY payouts %s, history %s, VACUUM ANALYZE %s\n", r.loaded.Round(time.Millisecond),
		r.load.payouts.Round(time.Millisecond), r.load.history.Round(time.Millisecond), r.load.vacuum.Round(time.Millisecond))
	if r.runErr != nil {
		fmt.Fprintf(w, "  run failed after %s: %v\n", r.took.Round(time.Millisecond), r.runErr)
		return
	}
	rate := float64(r.n) / r.took.Seconds()
	fmt.Fprintf(w, "  run %s: outcome %s in %s, %.0f records/s", r.run.ID, r.run.Outcome, r.took.Round(time.Millisecond), rate)
	if r.n == 1_000_000 {
		fmt.Fprintf(w, "  (target <= %.0f s: %s)", targetSeconds, verdict(r.took.Seconds() <= targetSeconds))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  counts:")
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
	peak := fmt.Sprintf("VmHWM %s", mb(r.peakRSS))
	if !r.hwmSet {
		peak += " (since process start: clear_refs refused)"
	}
	fmt.Fprintf(w, "  memory: peak RSS %s (target <= %s: %s); VmRSS before %s, sampled max %s, mean %s (%d samples)\n",
		peak, mb(targetRSS), verdict(max(r.peakRSS, r.rssMax) <= targetRSS), mb(r.rssBase), mb(r.rssMax), mb(r.rssMean), r.samples)
	fmt.Fprintf(w, "  go heap: %s allocated (%d B/record), %d mallocs (%d/record), %d GCs\n",
		mb(int64(r.alloc)), r.alloc/uint64(r.n), r.mallocs, r.mallocs/uint64(r.n), r.gcs)
	if c := r.cpu; c.OK {
		fmt.Fprintf(w, "  cpu (cores): machine busy %.2f of %.0f (%.2f in the second before the run); this process %.2f (reconciler and emulator); "+
			"PostgreSQL for this database %.2f; others sharing the machine %.2f\n", c.Busy, c.CPUs, r.before, c.Self, c.Postgres, c.Other())
	}
	upd, hot := r.dbAfter.updates-r.dbBefore.updates, r.dbAfter.hotUpdates-r.dbBefore.hotUpdates
	fmt.Fprintf(w, "  writes: WAL %s (server-wide); payouts rows updated %d (%d heap-only), payouts table+indexes %s -> %s; %d payout_history rows added; %d Coinflow list calls\n",
		mb(r.wal), upd, hot, mb(r.dbBefore.payoutBytes), mb(r.dbAfter.payoutBytes), r.historyWritten, r.listCalls)
	if r.cpuProfile != "" {
		fmt.Fprintf(w, "  cpu profile: %s (go tool pprof -top %s)\n", r.cpuProfile, r.cpuProfile)
	}
	if r.sql != nil {
		r.sql.report(w, r.took, 12)
	}
}

// reportScaling prints how time grew from the smaller run to the larger.
func reportScaling(w io.Writer, small, large *result) {
	if small.runErr != nil || large.runErr != nil {
		return
	}
	ratio := large.took.Seconds() / small.took.Seconds()
	fmt.Fprintf(w, "\nscaling: n=%d %s, n=%d %s: %.1fx the time for %.0fx the records (target <= %.0fx: %s)\n",
		small.n, small.took.Round(time.Millisecond), large.n, large.took.Round(time.Millisecond),
		ratio, float64(large.n)/float64(small.n), targetRatio, verdict(ratio <= targetRatio))
}
