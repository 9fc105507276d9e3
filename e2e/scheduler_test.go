package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/dbtest"
)

const (
	testCoinflowKey   = "e2e-coinflow-api-key-3c9d"
	scheduleInterval  = 2 * time.Second
	scheduleMinRuns   = 5
	scheduleRunsWait  = 60 * time.Second
	scheduleStopGrace = 30 * time.Second
	// phaseAttempts bounds the restarts spent putting the second process's
	// ticks where a case wants them.
	phaseAttempts = 20
)

// Scheduler log messages (package scheduler).
const (
	logJobDone   = "job done"
	logJobFailed = "job failed"
	logLeased    = "skip tick: another process has it"
	logClaimErr  = "claim job lease"
)

// TestTwoProcessesRunEachJobOncePerTick runs two payoutd processes on one
// database, both reconciling against the Coinflow emulator "@every 2s":
// the job lease must let one of them run each tick, so the runs recorded
// while both are up are one per tick, not one per process.
//
// "@every" ticks fall on the whole second the scheduler started plus whole
// intervals, so two processes tick together only if they started an even
// number of seconds apart. Both cases are run: ticks together, and ticks
// half an interval apart (processes are seldom started in step).
func TestTwoProcessesRunEachJobOncePerTick(t *testing.T) {
	dbtest.RequirePostgres(t)
	bin := buildPayoutd(t, "")
	for _, tc := range []struct {
		name   string
		offset time.Duration // between the two processes' ticks
	}{
		{"ticks_together", 0},
		{"ticks_half_interval_apart", scheduleInterval / 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testTwoProcesses(t, bin, tc.offset)
		})
	}
}

func testTwoProcesses(t *testing.T, bin string, offset time.Duration) {
	dbURL := dbtest.PostgresURL(t)
	cf := coinflowtest.NewServer(coinflowtest.Options{APIKey: testCoinflowKey, InitialBalanceCents: 50_000_000})
	t.Cleanup(cf.Close)

	first := startReconcilingDaemon(t, bin, dbURL, cf.URL)
	first.waitReady(30 * time.Second)
	for attempt := 0; !clearOfSecondBoundary(schedulerStart(t, first)); attempt++ {
		require.Less(t, attempt, phaseAttempts, "payoutd 1 kept starting its scheduler at a second boundary")
		first.restart()
	}
	second := startReconcilingDaemon(t, bin, dbURL, cf.URL)
	second.waitReady(30 * time.Second)
	for attempt := 0; ; attempt++ {
		got := tickOffset(schedulerStart(t, first), schedulerStart(t, second))
		if got == offset && clearOfSecondBoundary(schedulerStart(t, second)) {
			break
		}
		require.Less(t, attempt, phaseAttempts, "payoutd 2's ticks never came %s after payoutd 1's", offset)
		// Restarts take a few milliseconds: left to chance they all land in
		// one second. Wait for a moment in the phase wanted first.
		time.Sleep(time.Until(nextInPhase(schedulerStart(t, first), offset, time.Now())))
		second.restart()
	}
	daemons := []*daemon{first, second}
	joined := schedulerStart(t, second)
	db := openDB(t, dbURL)

	const finishedSince = "SELECT COUNT(*) FROM reconcile_runs WHERE trigger = 'schedule' AND finished_at IS NOT NULL AND started_at >= $1"
	deadline := time.Now().Add(scheduleRunsWait)
	for countRows(t, db, finishedSince, joined) < scheduleMinRuns {
		for i, d := range daemons {
			require.True(t, d.running(), "payoutd %d exited", i+1)
		}
		require.True(t, time.Now().Before(deadline), "fewer than %d scheduled runs after %s", scheduleMinRuns, scheduleRunsWait)
		time.Sleep(200 * time.Millisecond) // the runs come on wall-clock ticks
	}
	for _, d := range daemons {
		terminate(t, d)
	}
	both := time.Since(joined)

	// Runs from the moment both schedulers were up (earlier ones were made
	// by the first alone, or by attempts at the second killed to place its
	// ticks).
	rows, err := db.QueryContext(t.Context(),
		"SELECT id, started_at, finished_at IS NOT NULL, outcome, trigger FROM reconcile_runs WHERE started_at >= $1 ORDER BY started_at", joined)
	require.NoError(t, err)
	var (
		runs   []time.Time
		runIDs []string
	)
	for rows.Next() {
		var (
			id, outcome, trigger string
			at                   time.Time
			finished             bool
		)
		require.NoError(t, rows.Scan(&id, &at, &finished, &outcome, &trigger))
		require.Equal(t, "schedule", trigger, "trigger of the run started at %s", at)
		require.True(t, finished, "run started at %s left unfinished by a graceful stop", at)
		require.Equal(t, "ok", outcome, "outcome of the run started at %s", at)
		runs = append(runs, at)
		runIDs = append(runIDs, id)
	}
	require.NoError(t, rows.Err())

	// Each process's log: the runs it made (by run id, so a run that began
	// just before the second process joined and ended after is not
	// miscounted), and the ticks it left to the other.
	ranBy := map[string]int{} // run id -> process number
	var skipped int
	for i, d := range daemons {
		c := jobLogCounts(t, d, "reconcile", joined)
		require.Zero(t, c[logJobFailed]+c[logClaimErr], "payoutd %d: failed runs or lease claims: %v", i+1, c)
		for _, id := range loggedRunIDs(t, d) {
			require.NotContains(t, ranBy, id, "run %s logged by payoutd %d and by payoutd %d", id, ranBy[id], i+1)
			ranBy[id] = i + 1
		}
		skipped += c[logLeased]
	}
	perProcess := map[int]int{}
	for i, id := range runIDs {
		require.Contains(t, ranBy, id, "run %s (started %s) recorded but logged by neither process", id, runs[i])
		perProcess[ranBy[id]]++
	}
	for i := range daemons {
		t.Logf("payoutd %d: %d of the runs", i+1, perProcess[i+1])
	}
	ticks := int(both/scheduleInterval) + 1
	t.Logf("while both ran (%s, at most %d ticks of %s): %d scheduled runs, %d ticks skipped for want of the lease",
		both.Round(time.Millisecond), ticks, scheduleInterval, len(runs), skipped)

	require.GreaterOrEqual(t, len(runs), scheduleMinRuns)
	require.LessOrEqual(t, len(runs), ticks,
		"runs while both processes were up, at one per %s: the second process doubles them", scheduleInterval)
	// Ticks are an interval apart; a claim takes milliseconds. Two runs
	// closer than 3/4 of an interval are two runs of one tick's worth.
	for i := 1; i < len(runs); i++ {
		gap := runs[i].Sub(runs[i-1])
		require.GreaterOrEqual(t, gap, scheduleInterval*3/4, "runs %d and %d started %s apart, within one interval", i, i+1, gap)
	}
	require.GreaterOrEqual(t, skipped, len(runs)-2, "ticks left to the other process: both were competing")
}

// startReconcilingDaemon starts `payoutd serve` on dbURL with
// reconciliation against the emulator at cfURL every scheduleInterval, and
// debug JSON logs (the scheduler's lease decisions); it does not wait for
// readiness. The process is killed when the test ends.
func startReconcilingDaemon(t *testing.T, bin, dbURL, cfURL string) *daemon {
	t.Helper()
	return launchDaemon(t, bin, dbURL, map[string]string{
		"PAYOUTD_COINFLOW_BASE_URL":  cfURL,
		"PAYOUTD_COINFLOW_API_KEY":   testCoinflowKey,
		"PAYOUTD_RECONCILE_SCHEDULE": "@every " + scheduleInterval.String(),
		"PAYOUTD_LOG_LEVEL":          "debug",
		"PAYOUTD_LOG_FORMAT":         "json",
	})
}

// terminate stops the daemon as an operator does, with SIGTERM, and
// requires a clean exit within scheduleStopGrace.
func terminate(t *testing.T, d *daemon) {
	t.Helper()
	require.True(t, d.running(), "payoutd exited before it was stopped")
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-d.exited:
	case <-time.After(scheduleStopGrace):
		t.Fatalf("payoutd still running %s after SIGTERM", scheduleStopGrace)
	}
	require.Equal(t, 0, d.cmd.ProcessState.ExitCode(), "payoutd's exit code after SIGTERM")
}

// logEntry is the part of a payoutd JSON log line the tests read.
type logEntry struct {
	Time      time.Time `json:"time"`
	Msg       string    `json:"msg"`
	Job       string    `json:"job"`
	Component string    `json:"component"`
	RunID     string    `json:"run_id"`
}

// logEntries calls fn for each JSON line of the daemon's logs, over every
// run (start) or the latest only.
func logEntries(t *testing.T, d *daemon, latestOnly bool, fn func(logEntry)) {
	t.Helper()
	from := 1
	if latestOnly {
		from = d.starts
	}
	for n := from; n <= d.starts; n++ {
		f, err := os.Open(d.logPath(n))
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			var e logEntry
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				fn(e)
			}
		}
		require.NoError(t, sc.Err())
		require.NoError(t, f.Close())
	}
}

// jobLogCounts counts the scheduler's log lines about job logged at or
// after since, by message, over every run of the daemon.
func jobLogCounts(t *testing.T, d *daemon, job string, since time.Time) map[string]int {
	t.Helper()
	counts := map[string]int{}
	logEntries(t, d, false, func(e logEntry) {
		if e.Component == "scheduler" && e.Job == job && !e.Time.Before(since) {
			counts[e.Msg]++
		}
	})
	return counts
}

// loggedRunIDs lists the reconciliation runs the daemon logged, over every
// run (start) of it.
func loggedRunIDs(t *testing.T, d *daemon) []string {
	t.Helper()
	var ids []string
	logEntries(t, d, false, func(e logEntry) {
		if e.Component == "reconcile" && e.Msg == "reconciliation run" && e.RunID != "" {
			ids = append(ids, e.RunID)
		}
	})
	return ids
}

// schedulerStart is when the running daemon started its scheduler: serve
// logs "payoutd listening" right after starting it.
func schedulerStart(t *testing.T, d *daemon) time.Time {
	t.Helper()
	var at time.Time
	logEntries(t, d, true, func(e logEntry) {
		if e.Msg == "payoutd listening" {
			at = e.Time
		}
	})
	require.False(t, at.IsZero(), "no \"payoutd listening\" line in payoutd's log")
	return at
}

// tickOffset is how far b's "@every scheduleInterval" ticks come after a's:
// each falls on its start's whole second plus whole intervals.
func tickOffset(a, b time.Time) time.Duration {
	d := b.Truncate(time.Second).Sub(a.Truncate(time.Second)) % scheduleInterval
	if d < 0 {
		d += scheduleInterval
	}
	return d
}

// nextInPhase is the next moment after now, 300 ms into a second, whose
// "@every scheduleInterval" ticks come offset after those of a scheduler
// started at first.
func nextInPhase(first time.Time, offset time.Duration, now time.Time) time.Time {
	for t := now.Truncate(time.Second).Add(300 * time.Millisecond); ; t = t.Add(time.Second) {
		if t.After(now) && tickOffset(first, t) == offset {
			return t
		}
	}
}

// clearOfSecondBoundary reports whether at is far enough from a whole
// second that the scheduler, which computes its first tick a moment after
// the log line, saw the same second.
func clearOfSecondBoundary(at time.Time) bool {
	frac := time.Duration(at.Nanosecond())
	return frac > 20*time.Millisecond && frac < 950*time.Millisecond
}
