package main

import (
	"fmt"
	"slices"
	"time"
)

// round is one baseline, burst and steady phase, measured in that order.
type round struct {
	baseline *result
	burst    *payoutdResult
	steady   *payoutdResult // nil with -target: its figures are in the outside payoutd's database
}

// figure is one number a round gives, and whether it gave it.
type figure struct {
	name   string
	format string // of the number, unit included
	of     func(round) (float64, bool)
}

// The figures a round gives.
var (
	baselineRate  = figure{"baseline rows/s", "%.0f", func(r round) (float64, bool) { return r.baseline.rate(), true }}
	burstRate     = figure{"burst accepted/s", "%.0f", func(r round) (float64, bool) { return r.burst.rate(), true }}
	burstRatio    = figure{"burst / baseline", "%.2f", round.ratio}
	burstP99      = figure{"burst ingest p99", "%.1f ms", func(r round) (float64, bool) { return latencyMS(r.burst, 0.99) }}
	burstLagP99   = figure{"burst lag p99 (informative)", "%.0f ms", func(r round) (float64, bool) { return lagMS(r.burst, 0.99) }}
	burstBacklog  = figure{"burst backlog at end (informative)", "%.0f", func(r round) (float64, bool) { return backlog(r.burst) }}
	offeredRate   = figure{"steady offered/s", "%.0f", round.offered}
	appliedRate   = figure{"steady applied/s", "%.0f", round.applied}
	appliedShare  = figure{"steady applied / offered", "%.2f", round.appliedShare}
	steadyP99     = figure{"steady ingest p99", "%.1f ms", func(r round) (float64, bool) { return latencyMS(r.steady, 0.99) }}
	lagP50        = figure{"steady lag p50", "%.0f ms", func(r round) (float64, bool) { return lagMS(r.steady, 0.50) }}
	lagP99        = figure{"steady lag p99", "%.0f ms", func(r round) (float64, bool) { return lagMS(r.steady, 0.99) }}
	steadyBacklog = figure{"steady backlog at end", "%.0f", func(r round) (float64, bool) { return backlog(r.steady) }}
)

// figures are the ones the medians are taken of, in the order printed.
var figures = []figure{
	baselineRate, burstRate, burstRatio, burstP99, burstLagP99, burstBacklog,
	offeredRate, appliedRate, appliedShare, steadyP99, lagP50, lagP99, steadyBacklog,
}

func (r round) ratio() (float64, bool) {
	if r.baseline.rate() <= 0 {
		return 0, false
	}
	return r.burst.rate() / r.baseline.rate(), true
}

// offered is the rate the steady phase was asked to offer: the round's
// baseline rate, or -steady-rate.
func (r round) offered() (float64, bool) {
	if r.steady == nil || r.steady.offer == nil {
		return 0, false
	}
	return r.steady.offer.rate, true
}

func (r round) applied() (float64, bool) {
	if r.steady == nil || r.steady.lag == nil {
		return 0, false
	}
	return r.steady.lag.appliedRate(r.steady.window), true
}

func (r round) appliedShare() (float64, bool) {
	applied, ok := r.applied()
	offered, _ := r.offered()
	if !ok || offered <= 0 {
		return 0, false
	}
	return applied / offered, true
}

func latencyMS(r *payoutdResult, p float64) (float64, bool) {
	if r == nil || len(r.lat) == 0 {
		return 0, false
	}
	return toMS(r.percentile(p)), true
}

func lagMS(p *payoutdResult, q float64) (float64, bool) {
	if p == nil || p.lag == nil || p.lag.accepted == 0 {
		return 0, false
	}
	return toMS(p.lag.percentile(q)), true
}

func backlog(p *payoutdResult) (float64, bool) {
	if p == nil || p.lag == nil {
		return 0, false
	}
	return float64(p.lag.backlog), true
}

func toMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// spread is a figure over the rounds that gave it: its median, least and
// greatest, of n values.
type spread struct {
	median, min, max float64
	n                int
}

func spreadOf(xs []float64) spread {
	if len(xs) == 0 {
		return spread{}
	}
	s := slices.Sorted(slices.Values(xs))
	mid := len(s) / 2
	median := s[mid]
	if len(s)%2 == 0 {
		median = (s[mid-1] + s[mid]) / 2
	}
	return spread{median: median, min: s[0], max: s[len(s)-1], n: len(s)}
}

// over is the figure's spread over the rounds.
func (f figure) over(rounds []round) spread {
	var xs []float64
	for _, r := range rounds {
		if v, ok := f.of(r); ok {
			xs = append(xs, v)
		}
	}
	return spreadOf(xs)
}

// formatted is the figure's median and spread, "n/a" when no round gave it.
func (f figure) formatted(s spread) (median, minMax string) {
	if s.n == 0 {
		return "n/a", ""
	}
	return fmt.Sprintf(f.format, s.median), fmt.Sprintf(f.format, s.min) + " – " + fmt.Sprintf(f.format, s.max)
}

// summaryLine is the last line of the output, for scripts: the medians of
// the burst's and the steady phase's headline figures, in a fixed format.
// A figure no round measured (the steady phase's with -target) is n/a.
func summaryLine(rounds []round) string {
	num := func(f figure, format, unit string) string {
		s := f.over(rounds)
		if s.n == 0 {
			return "n/a"
		}
		return fmt.Sprintf(format, s.median) + unit
	}
	return fmt.Sprintf("webhookload: accepted %s, baseline %s, ratio %s, p99 %s, steady %s applied %s, lag p99 %s, backlog %s",
		num(burstRate, "%.0f", "/s"), num(baselineRate, "%.0f", "/s"), num(burstRatio, "%.2f", ""),
		num(burstP99, "%.1f", " ms"), num(offeredRate, "%.0f", "/s"), num(appliedRate, "%.0f", "/s"),
		num(lagP99, "%.0f", " ms"), num(steadyBacklog, "%.0f", ""))
}
