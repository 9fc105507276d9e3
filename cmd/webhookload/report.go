package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sirupsen/logrus"
)

// Targets of issue 12, on the medians over the rounds.
const (
	targetRatioPostgres  = 1.5
	aimRatioPostgres     = 2.0
	targetP99Postgres    = 25 * time.Millisecond
	targetRatioSQLite    = 3.0
	targetP99SQLite      = 50 * time.Millisecond
	targetAppliedShare   = 0.95
	targetLagP99         = time.Second
	targetBacklogSeconds = 1.0 // the steady phase's backlog, in seconds of the offered rate
)

// header says what the run measures, before the rounds' tables.
func header(w io.Writer, o options) {
	sample := newEventFactory(time.Now()).withdrawPending(1)
	fmt.Fprintf(w, "webhookload: %d round(s) of baseline %s, burst %s, steady %s (warm-up %s each); %d CPUs, GOMAXPROCS %d\n",
		o.rounds, o.burst, o.burst, o.steady, o.warmup, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "bodies:   distinct signed \"Withdraw Pending\" webhooks, %d bytes each\n", len(sample))
	db := "PostgreSQL: a fresh database, one connection per writer"
	if o.sqlite {
		db = "SQLite: a fresh file opened as payoutd opens its own (WAL, synchronous=FULL, one connection)"
	}
	fmt.Fprintf(w, "baseline: %d writers, single-row autocommit INSERT INTO bench(key, body) ... ON CONFLICT DO NOTHING; %s\n", o.concurrency, db)
	if o.target != "" {
		fmt.Fprintf(w, "burst:    %d senders, closed loop, against the payoutd already running at %s\n", o.concurrency, o.target)
		fmt.Fprintln(w, "steady:   not measured: its applied rate and lag are read from payoutd's database, which -target's is not")
		fmt.Fprintln(w, "note:     payoutd is another process: its CPU shows under other, and postgres counts every database's backends")
	} else {
		appliers := "no applier"
		if o.applier {
			appliers = fmt.Sprintf("%s applier(s) with batch %d", workersDesc(o.appliers), o.applierBatch)
		}
		if o.claimIndex {
			appliers += " (experiment: claim index added)"
		}
		fmt.Fprintf(w, "payoutd:  in-process, a fresh one on a fresh %s database per phase; commit workers %s, max batch %d, pool %d, %s; log level %s\n",
			dialectName(o), workersDesc(o.commitWorkers), o.commitMaxBatch, o.maxOpenConns, appliers, o.logLevel)
		fmt.Fprintf(w, "burst:    %d senders, closed loop (each sends again once answered)\n", o.concurrency)
		fmt.Fprintf(w, "steady:   open loop at the round's baseline rate, sends due at fixed intervals on up to %d senders; then up to %s for the backlog to drain\n",
			o.maxInFlight, o.drainWait)
		fmt.Fprintln(w, "note:     load generator, payoutd and the database share this machine's CPUs")
	}
	if o.burst < 30*time.Second || o.burst > 60*time.Second {
		fmt.Fprintf(w, "note:     -burst %s is outside the issue's 30-60s: the figures are indicative only\n", o.burst)
	}
	fmt.Fprintln(w, "columns:  ok/s: successes completed in the window; latencies and errors: requests started in it (steady: timed from when")
	fmt.Fprintln(w, "          each was due). CPU in cores: busy before = whole machine in the second before the phase; busy = whole machine")
	fmt.Fprintln(w, "          in the window; this process = load generator (+ in-process payoutd); postgres = server processes + backends of")
	fmt.Fprintln(w, "          the phase's database; other = the rest (other tenants, unbilled kernel time); CPU ms/ok = (this process +")
	fmt.Fprintln(w, "          postgres) per success. lag: accept→applied (processed_at − received_at) of the events received in the window,")
	fmt.Fprintln(w, "          an event not yet applied counting until the inbox is read; backlog: events not applied at the window's end.")
}

func dialectName(o options) string {
	if o.sqlite {
		return "SQLite"
	}
	return "PostgreSQL"
}

// reportRound prints one round as soon as it is measured.
func reportRound(w io.Writer, o options, i int, rd round) {
	fmt.Fprintf(w, "\nround %d of %d\n", i+1, o.rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tok/s\tp50\tp99\tmax\tok\terrors\t\tbusy before\tbusy\tthis process\tpostgres\tother\tCPU ms/ok\t")
	phases := []*result{rd.baseline, rd.burst.result}
	if rd.steady != nil {
		phases = append(phases, rd.steady.result)
	}
	for _, r := range phases {
		u := r.cpu
		perOK := "n/a"
		if u.OK && r.ok > 0 {
			perOK = fmt.Sprintf("%.3f", (u.Self+u.Postgres)/r.rate()*1000)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%s\t%s\t%d\t%d\t\t%.2f\t%s\t%s\t%s\t%s\t%s\t\n", r.name, r.rate(),
			ms(r.percentile(0.50)), ms(r.percentile(0.99)), ms(r.max()), r.ok, r.errCount(), r.before,
			cores(u.OK, u.Busy, u.CPUs), cores(u.OK, u.Self, 0),
			cores(u.OK && u.postgresSeen, u.Postgres, 0), cores(u.OK, u.Other(), 0), perOK)
	}
	_ = tw.Flush()

	if ratio, ok := rd.ratio(); ok {
		fmt.Fprintf(w, "burst:  %.2f of the baseline; %d connections opened (%d expected)\n", ratio, rd.burst.dials, o.concurrency)
	}
	reportPayoutd(w, o, rd.burst)
	if s := rd.steady; s != nil {
		sc := s.offer
		fmt.Fprintf(w, "steady: asked %.0f/s, offered %.0f/s: %d of %d sends due in the window started, %d of them more than %s late (%d waiting for one of %d senders), %d not sent; at most %d in flight, %d connections opened\n",
			sc.rate, sc.offered(s.window), sc.started, sc.due, sc.late, lateAfter, sc.waited, sc.senders, sc.unsent, sc.peak, s.dials)
		reportPayoutd(w, o, s)
	}
	for _, r := range phases {
		fmt.Fprintf(w, "%s errors: %s\n", r.name, counts(r.errs))
		if len(r.notes) > 0 {
			fmt.Fprintf(w, "%s notes: %s\n", r.name, counts(r.notes))
		}
	}
}

// reportPayoutd prints what an in-process payoutd's counters and inbox say
// about a phase.
func reportPayoutd(w io.Writer, o options, p *payoutdResult) {
	if !p.inProcess {
		return
	}
	name := p.name + ":"
	st := p.pipeline
	mean := 0.0
	if st.commits > 0 {
		mean = st.committed / st.commits
	}
	fmt.Fprintf(w, "%-7s committer %.0f commits (%.1f/s), %.1f webhooks per commit\n", name, st.commits, st.commits/p.window.Seconds(), mean)
	if l := p.lag; l != nil {
		fmt.Fprintf(w, "%-7s applied %.1f/s in the window; lag p50 %s, p99 %s, max %s of %d events accepted in it (%d not applied when read); backlog at its end %d\n",
			name, l.appliedRate(p.window), ms(l.percentile(0.50)), ms(l.percentile(0.99)), ms(l.percentile(1)), l.accepted, l.unapplied, l.backlog)
	}
	if d := p.drain; d != nil {
		fmt.Fprintf(w, "%-7s then, no load: %d events applied in %s = %.1f/s, %d left; CPU: this process %s, postgres %s\n",
			name, d.applied, d.elapsed.Round(time.Millisecond), float64(d.applied)/d.elapsed.Seconds(), d.remaining,
			cores(d.cpu.OK, d.cpu.Self, 0), cores(d.cpu.OK && d.cpu.postgresSeen, d.cpu.Postgres, 0))
	}
	var levels []string
	for _, l := range []logrus.Level{logrus.ErrorLevel, logrus.WarnLevel, logrus.InfoLevel, logrus.DebugLevel} {
		if n := p.logLevels[l]; n > 0 {
			levels = append(levels, fmt.Sprintf("%s %d", l, n))
		}
	}
	fmt.Fprintf(w, "%-7s log lines (level %s): %s\n", name, o.logLevel, orNone(strings.Join(levels, ", ")))
	if len(p.warnings) > 0 {
		fmt.Fprintf(w, "%-7s warnings: %s\n", name, counts(p.warnings))
	}
}

// reportMedians prints every figure's median and spread, the targets, and
// last the summary line.
func reportMedians(w io.Writer, o options, rounds []round) {
	fmt.Fprintf(w, "\nover %d round(s): median (min – max)\n", len(rounds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range figures {
		median, minMax := f.formatted(f.over(rounds))
		fmt.Fprintln(tw, strings.TrimRight("  "+f.name+"\t"+median+"\t"+minMax, "\t"))
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\ntargets (%s, on the medians)\n", dialectName(o))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ratio, p99 := targetRatioPostgres, targetP99Postgres
	ratioLabel := fmt.Sprintf("burst / baseline >= %.1f (aim %.0f)", targetRatioPostgres, aimRatioPostgres)
	if o.sqlite {
		ratio, p99 = targetRatioSQLite, targetP99SQLite
		ratioLabel = fmt.Sprintf("burst / baseline >= %.0f", targetRatioSQLite)
	}
	offered := offeredRate.over(rounds)
	check := func(label string, f figure, pass func(float64) bool) {
		s := f.over(rounds)
		median, _ := f.formatted(s)
		v := "not measured"
		if s.n > 0 {
			v = verdict(pass(s.median))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", label, median, v)
	}
	check(ratioLabel, burstRatio, func(v float64) bool { return v >= ratio })
	check(fmt.Sprintf("burst ingest p99 <= %s", p99), burstP99, func(v float64) bool { return v <= toMS(p99) })
	check(fmt.Sprintf("steady applied >= %.2f x offered", targetAppliedShare), appliedShare, func(v float64) bool { return v >= targetAppliedShare })
	check(fmt.Sprintf("steady lag p99 <= %s", targetLagP99), lagP99, func(v float64) bool { return v <= toMS(targetLagP99) })
	check(fmt.Sprintf("steady backlog < %.0f s of the offered rate (%.0f)", targetBacklogSeconds, offered.median*targetBacklogSeconds),
		steadyBacklog, func(v float64) bool { return v < offered.median*targetBacklogSeconds })
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, summaryLine(rounds))
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}

func cores(valid bool, v, of float64) string {
	if !valid {
		return "n/a"
	}
	if of > 0 {
		return fmt.Sprintf("%.2f of %.0f", v, of)
	}
	return fmt.Sprintf("%.2f", v)
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// counts lists a tally, largest first.
func counts(m map[string]int) string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		if m[a] != m[b] {
			return m[b] - m[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return orNone(strings.Join(parts, "; "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// workersDesc is a worker count as set: 0 follows the database, as serve.
func workersDesc(n int) string {
	if n == 0 {
		return "by the database"
	}
	return fmt.Sprint(n)
}
