package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
)

// outcome is what one operation came to: ok is a success (a committed row,
// a 200); kind names an error, or notes something about a success
// ("duplicate").
type outcome struct {
	ok   bool
	kind string
}

// sample is one operation, timed from the start of the run.
type sample struct {
	start, end time.Duration
	outcome
}

// hooks run at the edges of the measured window, on the timer's goroutine.
type hooks struct {
	windowStart func()
	windowEnd   func()
}

// result is one phase measured.
type result struct {
	name     string
	window   time.Duration
	from, to time.Time       // the window by the wall clock, the one the store stamps rows with
	ok       int             // successes that completed inside the window
	lat      []time.Duration // latencies of successes started inside the window, sorted
	errs     map[string]int  // failures started inside the window, by kind
	notes    map[string]int  // successes with a remark, by remark
	cpu      cpuUsage
	before   float64   // cores busy on the machine in the second before the phase
	offer    *schedule // how an open-loop phase kept to its timetable; nil for a closed loop
}

func (r *result) rate() float64 { return float64(r.ok) / r.window.Seconds() }

func (r *result) errCount() int {
	n := 0
	for _, v := range r.errs {
		n += v
	}
	return n
}

func (r *result) percentile(p float64) time.Duration { return percentile(r.lat, p) }

func (r *result) max() time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[len(r.lat)-1]
}

// percentile is the nearest-rank percentile of sorted durations, 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// drive runs op on n goroutines for warmup+window: each starts a new
// operation as soon as its last one ends, until the window closes (a closed
// loop). Operations are not cancelled when the window closes (that would
// turn them into errors); drive waits for them.
// pgDB names the database whose backends count as PostgreSQL's CPU.
func drive(ctx context.Context, name, pgDB string, n int, warmup, window time.Duration, h hooks, op func(ctx context.Context, worker int) outcome) *result {
	t0 := time.Now()
	winEnd := warmup + window
	cpu := watchWindow(ctx, t0, warmup, winEnd, pgDB, h)

	perWorker := make([][]sample, n)
	var workers sync.WaitGroup
	for w := range n {
		workers.Go(func() {
			samples := make([]sample, 0, 4096)
			for ctx.Err() == nil {
				start := time.Since(t0)
				if start >= winEnd {
					break
				}
				out := op(ctx, w)
				samples = append(samples, sample{start: start, end: time.Since(t0), outcome: out})
			}
			perWorker[w] = samples
		})
	}
	workers.Wait()
	return summarize(name, t0, warmup, window, cpu(), slices.Concat(perWorker...))
}

// watchWindow runs the hooks and reads the CPU at the window's edges,
// [t0+winStart, t0+winEnd), on its own goroutine. The function it returns
// waits for the window to close and gives the CPU used inside it.
func watchWindow(ctx context.Context, t0 time.Time, winStart, winEnd time.Duration, pgDB string, h hooks) func() cpuUsage {
	var cpu cpuUsage
	var timer sync.WaitGroup
	timer.Go(func() {
		if !bench.SleepUntil(ctx, t0.Add(winStart)) {
			return
		}
		before := bench.ReadCPU(pgDB)
		if h.windowStart != nil {
			h.windowStart()
		}
		if !bench.SleepUntil(ctx, t0.Add(winEnd)) {
			return
		}
		if h.windowEnd != nil {
			h.windowEnd()
		}
		cpu = cpuSince(before, pgDB)
	})
	return func() cpuUsage {
		timer.Wait()
		return cpu
	}
}

// summarize tallies a phase's samples. Throughput counts the successes that
// completed inside the window; latency and errors cover the operations that
// started inside it, so a slow tail is not dropped for finishing late.
func summarize(name string, t0 time.Time, warmup, window time.Duration, cpu cpuUsage, samples []sample) *result {
	winStart, winEnd := warmup, warmup+window
	r := &result{
		name: name, window: window, from: t0.Add(winStart), to: t0.Add(winEnd),
		errs: map[string]int{}, notes: map[string]int{}, cpu: cpu,
	}
	for _, s := range samples {
		if s.ok && s.end >= winStart && s.end < winEnd {
			r.ok++
		}
		if s.start < winStart || s.start >= winEnd {
			continue
		}
		switch {
		case !s.ok:
			r.errs[s.kind]++
		default:
			r.lat = append(r.lat, s.end-s.start)
			if s.kind != "" {
				r.notes[s.kind]++
			}
		}
	}
	slices.Sort(r.lat)
	return r
}
