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

// report prints both phases, the ratio and the targets.
func report(w io.Writer, o options, base *result, p *payoutdResult) {
	sample := newEventFactory(time.Now()).withdrawPending(1)
	fmt.Fprintf(w, "\nwebhookload: concurrency %d, warm-up %s, measured %s per phase; %d CPUs, GOMAXPROCS %d\n",
		o.concurrency, o.warmup, o.duration, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "bodies: distinct signed \"Withdraw Pending\" webhooks, %d bytes each\n", len(sample))
	if base != nil {
		fmt.Fprintln(w, "baseline: PostgreSQL only: single-row autocommit INSERT INTO bench(key, body) ... ON CONFLICT DO NOTHING, one connection per writer")
	}
	fmt.Fprintf(w, "payoutd:  %s\n", p.desc)
	if o.sqlite && base != nil {
		fmt.Fprintln(w, "note:     payoutd runs on SQLite but the baseline is PostgreSQL: the ratio compares unlike databases")
	}
	if p.inProcess {
		fmt.Fprintln(w, "note:     load generator, payoutd and PostgreSQL share this machine's CPUs")
	} else {
		fmt.Fprintln(w, "note:     payoutd is another process: its CPU shows under other, and postgres counts every database's backends")
	}

	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tok/s\tp50\tp99\tmax\tok\terrors\t\tbusy before\tbusy\tthis process\tpostgres\tother\tCPU ms/ok\t")
	for _, r := range []*result{base, p.result} {
		if r == nil {
			continue
		}
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
	fmt.Fprintln(w, "(ok/s: successes completed in the window; latencies and errors: requests started in it.")
	fmt.Fprintln(w, " CPU in cores: busy before = whole machine in the second before the phase; busy = whole machine in the window;")
	fmt.Fprintln(w, " this process = load generator (+ in-process payoutd); postgres = server processes + backends of the run's database;")
	fmt.Fprintln(w, " other = the rest: other tenants of the machine, unbilled kernel time;")
	fmt.Fprintln(w, " CPU ms/ok = (this process + postgres) per success, the cost that contention does not change much)")

	ratio := 0.0
	if base != nil && base.rate() > 0 {
		ratio = p.rate() / base.rate()
		fmt.Fprintf(w, "\nratio payoutd/baseline: %.2f\n", ratio)
	}

	fmt.Fprintln(w)
	for _, r := range []*result{base, p.result} {
		if r == nil {
			continue
		}
		fmt.Fprintf(w, "%s errors: %s\n", r.name, counts(r.errs))
		if len(r.notes) > 0 {
			fmt.Fprintf(w, "%s notes: %s\n", r.name, counts(r.notes))
		}
	}
	fmt.Fprintf(w, "payoutd connections opened by the load: %d (keep-alive: %d expected)\n", p.dials, o.concurrency)
	if p.inProcess {
		st := p.pipeline
		mean := 0.0
		if st.commits > 0 {
			mean = st.committed / st.commits
		}
		secs := o.duration.Seconds()
		fmt.Fprintf(w, "payoutd committer: %.0f commits (%.1f/s), %.1f webhooks per commit on average\n", st.commits, st.commits/secs, mean)
		fmt.Fprintf(w, "payoutd applier:   %.1f events/s applied during the window, %d committed but not yet applied at its end\n", st.processed/secs, p.backlog)
		if d := p.drain; d != nil {
			fmt.Fprintf(w, "payoutd applier, no load (-drain): %d events in %s = %.1f events/s, %d left; CPU: this process %s, postgres %s\n",
				d.applied, d.elapsed.Round(time.Millisecond), float64(d.applied)/d.elapsed.Seconds(), d.remaining,
				cores(d.cpu.OK, d.cpu.Self, 0), cores(d.cpu.OK && d.cpu.postgresSeen, d.cpu.Postgres, 0))
		}
		var levels []string
		for _, l := range []logrus.Level{logrus.ErrorLevel, logrus.WarnLevel, logrus.InfoLevel, logrus.DebugLevel} {
			if n := p.logLevels[l]; n > 0 {
				levels = append(levels, fmt.Sprintf("%s %d", l, n))
			}
		}
		fmt.Fprintf(w, "payoutd log lines (whole run, level %s): %s\n", o.logLevel, orNone(strings.Join(levels, ", ")))
		if len(p.warnings) > 0 {
			fmt.Fprintf(w, "payoutd warnings: %s\n", counts(p.warnings))
		}
	}

	fmt.Fprintln(w, "\ntargets")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  durable webhooks/s >= %.0f\t%.1f\t%s\n", targetRate, p.rate(), verdict(p.rate() >= targetRate))
	fmt.Fprintf(tw, "  p99 <= %s\t%s\t%s\n", targetP99, ms(p.percentile(0.99)), verdict(len(p.lat) > 0 && p.percentile(0.99) <= targetP99))
	if base != nil {
		fmt.Fprintf(tw, "  payoutd/baseline >= %.1f\t%.2f\t%s\n", targetRatio, ratio, verdict(ratio >= targetRatio))
	} else {
		fmt.Fprintf(tw, "  payoutd/baseline >= %.1f\tn/a\tnot measured (-baseline=false)\n", targetRatio)
	}
	_ = tw.Flush()
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
