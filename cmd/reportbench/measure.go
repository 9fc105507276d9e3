package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
	"github.com/payoutd/payoutd/report"
)

// baseline is one pass over the range's payouts grouped by what any
// report of them groups by at least: day, status and currency.
const baseline = `SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, amount_currency, COUNT(*), SUM(amount_cents)
FROM payouts WHERE created_at >= ? AND created_at < ?
GROUP BY 1, 2, 3`

// timing is what one contender took in each round.
type timing struct {
	name string
	took []time.Duration
}

func (t *timing) median() time.Duration { return pct(t.took, 50) }

func measure(ctx context.Context, store *models.Store, dbURL string, o options, stdout io.Writer, progress func(string, ...any)) error {
	from, to := rangeStart, rangeStart.AddDate(0, 0, o.days)
	a := &timing{name: "A baseline: GROUP BY day, status, currency"}
	p := &timing{name: "P the summary's one pass alone (ReportGroups)"}
	b := &timing{name: "B summary: report.Build + JSON"}
	build := &timing{name: "  of which report.Build"}
	var cli []*timing
	for _, bin := range o.cli {
		cli = append(cli, &timing{name: "payoutd report (" + filepath.Base(bin) + ")"})
	}
	var (
		last *report.Summary
		size int
	)
	contenders := []func() error{
		func() error {
			start := time.Now()
			if err := runBaseline(ctx, store, from, to); err != nil {
				return err
			}
			a.took = append(a.took, time.Since(start))
			return nil
		},
		func() error {
			start := time.Now()
			if _, err := store.ReportGroups(ctx, from, to, rail.NACHALimitCents); err != nil {
				return err
			}
			p.took = append(p.took, time.Since(start))
			return nil
		},
		func() error {
			start := time.Now()
			s, err := report.Build(ctx, store, from, to)
			if err != nil {
				return err
			}
			built := time.Since(start)
			raw, err := json.Marshal(s)
			if err != nil {
				return err
			}
			b.took = append(b.took, time.Since(start))
			build.took = append(build.took, built)
			last, size = s, len(raw)
			return nil
		},
	}
	for i, bin := range o.cli {
		contenders = append(contenders, func() error {
			took, err := runCLI(ctx, bin, dbURL, from, to)
			if err != nil {
				return err
			}
			cli[i].took = append(cli[i].took, took)
			return nil
		})
	}
	progress("timing %d rounds of %d, alternating the order…", o.rounds, len(contenders))
	var ratios, onePass []float64
	for r := range o.rounds {
		order := slices.Clone(contenders)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, c := range order {
			if err := c(); err != nil {
				return err
			}
		}
		ratios = append(ratios, b.took[r].Seconds()/a.took[r].Seconds())
		onePass = append(onePass, b.took[r].Seconds()/p.took[r].Seconds())
	}
	if err := last.Check(); err != nil {
		return fmt.Errorf("the summary does not check: %w", err)
	}

	fmt.Fprintf(stdout, "finance report on %d payouts over %d days (%s to %s), %d unresolved findings, %d wallet snapshots; PostgreSQL; %d rounds, order alternating\n\n",
		o.n, o.days, from.Format(time.DateOnly), to.Format(time.DateOnly), last.Findings.Total, len(last.Wallet.Snapshots), o.rounds)
	fmt.Fprintf(stdout, "%-52s %10s %10s %10s\n", "", "median ms", "min ms", "max ms")
	for _, t := range append([]*timing{a, p, b, build}, cli...) {
		fmt.Fprintf(stdout, "%-52s %10.0f %10.0f %10.0f\n", t.name, ms(t.median()), ms(slices.Min(t.took)), ms(slices.Max(t.took)))
	}
	for _, r := range []struct {
		name   string
		ratios []float64
	}{{"B/A", ratios}, {"B/P", onePass}} {
		slices.Sort(r.ratios)
		m := r.ratios[len(r.ratios)/2]
		fmt.Fprintf(stdout, "\n%s, median of the rounds' ratios: %.2f (%s the %.1f target); rounds: %s", r.name, m, verdict(m <= targetRatio), targetRatio, fmtRatios(r.ratios))
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "summary median %.0f ms (%s the %s target)\n", ms(b.median()), verdict(b.median() <= targetSummary), targetSummary)
	fmt.Fprintf(stdout, "summary JSON %d bytes: %d payout rows, %d findings listed of %d, %d wallet snapshots\n",
		size, len(last.Payouts.Rows), len(last.Findings.List), last.Findings.Total, len(last.Wallet.Snapshots))
	if err := sections(ctx, store, from, to, stdout); err != nil {
		return err
	}
	if o.explain {
		return explain(ctx, store, from, to, stdout)
	}
	return nil
}

func runBaseline(ctx context.Context, store *models.Store, from, to time.Time) error {
	rows, err := store.DB().WithContext(ctx).Raw(baseline, from, to).Rows()
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			day              time.Time
			status, currency string
			count            int64
			cents            string // numeric
		)
		if err := rows.Scan(&day, &status, &currency, &count, &cents); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
	}
	return rows.Err()
}

// runCLI times bin's report command on the database, its JSON discarded.
func runCLI(ctx context.Context, bin, dbURL string, from, to time.Time) (time.Duration, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "report", "--from", from.Format(time.DateOnly), "--to", to.Format(time.DateOnly), "--format", "json")
	cmd.Env = append(os.Environ(), "PAYOUTD_DATABASE_URL="+dbURL)
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s report: %w: %s", bin, err, strings.TrimSpace(stderr.String()))
	}
	return time.Since(start), nil
}

// sections times, once, what the summary reads besides its one pass.
func sections(ctx context.Context, store *models.Store, from, to time.Time, w io.Writer) error {
	var out []string
	timed := func(name string, fn func() (string, error)) error {
		start := time.Now()
		what, err := fn()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, fmt.Sprintf("%s %.0f ms (%s)", name, ms(time.Since(start)), what))
		return nil
	}
	err := store.ReportRead(ctx, func(st *models.Store) error {
		if err := timed("one pass", func() (string, error) {
			gs, err := st.ReportGroups(ctx, from, to, rail.NACHALimitCents)
			return fmt.Sprintf("%d groups", len(gs)), err
		}); err != nil {
			return err
		}
		if err := timed("wallet series", func() (string, error) {
			snaps, err := st.WalletSnapshotList(ctx, from, to)
			if err != nil {
				return "", err
			}
			times := make([]time.Time, len(snaps))
			for i, s := range snaps {
				times[i] = s.TakenAt
			}
			_, err = st.WalletMovementPerStep(ctx, times)
			return fmt.Sprintf("%d snapshots", len(snaps)), err
		}); err != nil {
			return err
		}
		if err := timed("findings", func() (string, error) {
			fs, err := st.FindingListUnresolved(ctx, report.MaxListedFindings+1)
			if err != nil {
				return "", err
			}
			_, err = st.FindingCountOpenByKindSeverity(ctx)
			return fmt.Sprintf("%d listed and counted", len(fs)), err
		}); err != nil {
			return err
		}
		return timed("aging", func() (string, error) {
			now := st.Now()
			rows, err := st.ReportAging(ctx, []time.Time{now.Add(-24 * time.Hour), now.Add(-72 * time.Hour), now.Add(-168 * time.Hour)})
			return fmt.Sprintf("%d rows", len(rows)), err
		})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "its reads, once, in one transaction: %s\n", strings.Join(out, "; "))
	return nil
}

// explain prints EXPLAIN (ANALYZE, BUFFERS) of the baseline and of the
// one-pass statement the store sends, both captured from GORM as they run.
func explain(ctx context.Context, store *models.Store, from, to time.Time, w io.Writer) error {
	db := store.DB()
	captured := map[string]string{}
	name := "reportbench:capture"
	if err := db.Callback().Row().After("gorm:row").Register(name, func(tx *gorm.DB) {
		sql := tx.Statement.SQL.String()
		switch {
		case strings.Contains(sql, "reached"):
			captured["one pass"] = tx.Dialector.Explain(sql, tx.Statement.Vars...)
		case strings.Contains(sql, "GROUP BY 1, 2, 3"):
			captured["baseline"] = tx.Dialector.Explain(sql, tx.Statement.Vars...)
		}
	}); err != nil {
		return err
	}
	err := runBaseline(ctx, store, from, to)
	if err == nil {
		_, err = store.ReportGroups(ctx, from, to, rail.NACHALimitCents)
	}
	_ = db.Callback().Row().Remove(name)
	if err != nil {
		return err
	}
	for _, q := range []struct{ name, sql string }{
		{"A, the baseline", captured["baseline"]},
		{"the summary's one pass", captured["one pass"]},
	} {
		rows, err := db.WithContext(ctx).Raw("EXPLAIN (ANALYZE, BUFFERS) " + q.sql).Rows()
		if err != nil {
			return fmt.Errorf("explain %s: %w", q.name, err)
		}
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return err
			}
			lines = append(lines, "  "+l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nEXPLAIN (ANALYZE, BUFFERS), %s:\n%s\n", q.name, strings.Join(lines, "\n"))
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "within"
	}
	return "OVER"
}

func fmtRatios(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(parts, " ")
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
