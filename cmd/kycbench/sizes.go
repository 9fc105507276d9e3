package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// runSizes runs every size o.runs times, each in a fresh child process (so
// that each peak RSS is its own), smallest first in even rounds and largest
// first in odd ones, and prints the medians and the ratio of what the sweep
// adds to RSS at the largest size to the smallest.
func runSizes(ctx context.Context, o options, stdout, stderr io.Writer, progress func(string, ...any)) error {
	sizes := slices.Clone(o.sizes)
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	byN := map[int][]*result{}
	for round := range o.runs {
		order := slices.Clone(sizes)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, n := range order {
			progress("round %d of %d: n=%d in a child process", round+1, o.runs, n)
			r, err := runChild(ctx, o, n, stderr)
			if err != nil {
				return fmt.Errorf("n=%d: %w", n, err)
			}
			progress("n=%d: sweep %s, %d calls, RSS %s -> %s MB", n, r.Took.Round(time.Millisecond), r.Sweep.Calls,
				mb(r.RSSBase), mb(max(r.RSSPeak, r.RSSSample)))
			byN[n] = append(byN[n], r)
		}
	}

	first := byN[sizes[0]][0]
	fmt.Fprintf(stdout, "\nkycbench sizes: %d runs per size, each in a fresh process, order alternating; medians (limit columns: the worst run)\n", o.runs)
	fmt.Fprintf(stdout, "per size: n pending known to both, %.0f%% of them approved at Coinflow without a webhook, %d more unknown to Coinflow\n",
		o.approve*100, o.unknown)
	header(stdout, first)
	fmt.Fprintln(stdout)
	var rows []row
	for _, n := range sizes {
		rows = append(rows, medianRow(byN[n]))
	}
	table(stdout, rows)
	fmt.Fprintln(stdout)
	for _, n := range sizes {
		rs := byN[n]
		took := func(r *result) float64 { return r.Took.Seconds() }
		added := func(r *result) float64 { return float64(r.Added()) / (1 << 20) }
		setup := func(r *result) float64 { return r.Setup.Seconds() }
		fmt.Fprintf(stdout, "n=%d: sweep %s s, sweep adds %s MB, setup %s s (min-max of %d)\n", n,
			span(rs, took, "%.3f"), span(rs, added, "%.1f"), span(rs, setup, "%.1f"), len(rs))
	}
	if len(sizes) > 1 {
		small, large := rows[0], rows[len(rows)-1]
		fmt.Fprintf(stdout, "ratio n=%d / n=%d (%.0fx the withdrawers): sweep adds %s MB vs %s MB = %s; RSS peak %.2fx; sweep time %.2fx\n",
			large.n, small.n, float64(large.n)/float64(small.n), signedMB(large.added), signedMB(small.added),
			ratio(large.added, small.added), float64(large.rssPeak)/float64(small.rssPeak), large.took.Seconds()/small.took.Seconds())
	}
	var errs []error
	for _, n := range sizes {
		for i, r := range byN[n] {
			if err := r.problems(); err != nil {
				errs = append(errs, fmt.Errorf("n=%d run %d: %w", n, i+1, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stdout, "PROBLEMS: %v\n", err)
		return err
	}
	fmt.Fprintln(stdout, "limits held in every run; changes and lookups as the data holds")
	return nil
}

func ratio(a, b int64) string {
	if b <= 0 {
		return "n/a (the smaller adds nothing)"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

// runChild runs one size in a fresh process of this program.
func runChild(ctx context.Context, o options, n int, stderr io.Writer) (*result, error) {
	args := []string{"-child", "-n", strconv.Itoa(n), "-approve", strconv.FormatFloat(o.approve, 'g', -1, 64),
		"-unknown", strconv.Itoa(o.unknown), "-emulator", o.emulator, "-wait-quiet", o.waitQuiet.String(),
		"-setup-batch", strconv.Itoa(o.batch)}
	if o.databaseURL != "" {
		args = append(args, "-database-url", o.databaseURL)
	}
	if o.verbose {
		args = append(args, "-v")
	}
	cmd, err := selfCommand(ctx, args...)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("child process: %w", err)
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("child process said %q: %w", out.String(), err)
	}
	return &r, nil
}

// medianRow is the medians of the runs, and the worst of the limit figures.
func medianRow(rs []*result) row {
	rows := make([]row, len(rs))
	for i, r := range rs {
		rows[i] = rowOf(r)
	}
	m := rows[0]
	m.runs = len(rows)
	m.took = median(rows, func(r row) time.Duration { return r.took })
	m.callsPerSec = median(rows, func(r row) float64 { return r.callsPerSec })
	m.calls = median(rows, func(r row) int64 { return r.calls })
	m.changed = median(rows, func(r row) int64 { return r.changed })
	m.rssBase = median(rows, func(r row) int64 { return r.rssBase })
	m.rssPeak = median(rows, func(r row) int64 { return r.rssPeak })
	m.added = median(rows, func(r row) int64 { return r.added })
	m.heapUp = median(rows, func(r row) int64 { return r.heapUp })
	m.liveUp = median(rows, func(r row) int64 { return r.liveUp })
	for _, r := range rows {
		m.throttled, m.maxKYC, m.maxNotFound = max(m.throttled, r.throttled), max(m.maxKYC, r.maxKYC), max(m.maxNotFound, r.maxNotFound)
	}
	return m
}

// median is the middle value (the lower of the two middle ones for an even
// count, so that it is one that was measured).
func median[T cmp.Ordered](rows []row, f func(row) T) T {
	vs := make([]T, len(rows))
	for i, r := range rows {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	return vs[(len(vs)-1)/2]
}

// span is "min-max" of f over the runs.
func span(rs []*result, f func(*result) float64, format string) string {
	lo, hi := f(rs[0]), f(rs[0])
	for _, r := range rs[1:] {
		lo, hi = min(lo, f(r)), max(hi, f(r))
	}
	return fmt.Sprintf(format+"-"+format, lo, hi)
}
