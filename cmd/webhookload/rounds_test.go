package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/bench"
)

func TestSpreadOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		xs   []float64
		want spread
	}{
		{"none", nil, spread{}},
		{"one", []float64{7}, spread{median: 7, min: 7, max: 7, n: 1}},
		{"odd, unsorted", []float64{3, 1, 2}, spread{median: 2, min: 1, max: 3, n: 3}},
		{"even: the middle two's mean", []float64{4, 1, 3, 10}, spread{median: 3.5, min: 1, max: 10, n: 4}},
		{"an outlier does not move it", []float64{5, 5, 500}, spread{median: 5, min: 5, max: 500, n: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, spreadOf(tc.xs))
		})
	}
}

// fakeRound is a round whose phases lasted a second each.
func fakeRound(baseline, burst int, p99 time.Duration, offered float64, applied int, lagP99 time.Duration, backlog int) round {
	res := func(name string, ok int, lat ...time.Duration) *result {
		return &result{name: name, window: time.Second, ok: ok, lat: lat}
	}
	steady := &payoutdResult{result: res("steady", int(offered), time.Millisecond), inProcess: true,
		lag: &lagStats{accepted: 1, applied: applied, backlog: backlog, lags: []time.Duration{lagP99}}}
	steady.offer = &schedule{rate: offered}
	return round{
		baseline: res("baseline", baseline, time.Millisecond),
		burst:    &payoutdResult{result: res("burst", burst, p99), inProcess: true, lag: &lagStats{}},
		steady:   steady,
	}
}

// summaryFormat is the summary line as scripts read it.
var summaryFormat = regexp.MustCompile(`^webhookload: accepted (\d+)/s, baseline (\d+)/s, ratio (\d+\.\d\d), p99 (\d+\.\d) ms, ` +
	`steady (\d+)/s applied (\d+)/s, lag p99 (\d+) ms, backlog (\d+)$`)

func TestSummaryLineIsTheLastLineAndParsesBack(t *testing.T) {
	t.Parallel()
	rounds := []round{
		fakeRound(1000, 1500, 10*time.Millisecond, 1000, 990, 300*time.Millisecond, 5),
		fakeRound(2000, 2000, 30*time.Millisecond, 2000, 1000, 900*time.Millisecond, 50),
		fakeRound(1200, 3000, 20*time.Millisecond, 1200, 1190, 100*time.Millisecond, 0),
	}
	var out bytes.Buffer
	reportMedians(&out, options{}, rounds)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	m := summaryFormat.FindStringSubmatch(lines[len(lines)-1])
	require.NotNil(t, m, "last line: %q", lines[len(lines)-1])

	var got []float64
	for _, s := range m[1:] {
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		got = append(got, v)
	}
	// Each is the median over the rounds: ratios 1.5, 1.0 and 2.5 give 1.5.
	require.Equal(t, []float64{2000, 1200, 1.5, 20, 1200, 1000, 300, 5}, got)
	require.Regexp(t, `burst / baseline >= 1\.5 \(aim 2\) +1\.50 +PASS`, out.String())
	require.Regexp(t, `steady applied >= 0\.95 x offered +0\.99 +PASS`, out.String())
	require.Regexp(t, `steady backlog < 1 s of the offered rate \(1200\) +5 +PASS`, out.String())
}

func TestSummaryLineWithoutSteadyPhase(t *testing.T) {
	t.Parallel()
	rd := fakeRound(1000, 1500, 10*time.Millisecond, 0, 0, 0, 0)
	rd.steady = nil // -target
	require.Equal(t, "webhookload: accepted 1500/s, baseline 1000/s, ratio 1.50, p99 10.0 ms, steady n/a applied n/a, lag p99 n/a, backlog n/a",
		summaryLine([]round{rd}))
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	getenv := func(string) string { return "" }
	o, err := parseFlags(nil, getenv)
	require.NoError(t, err)
	require.Equal(t, 3, o.rounds)
	require.Equal(t, 30*time.Second, o.burst)
	require.Equal(t, 60*time.Second, o.steady)
	require.Equal(t, 1024, o.maxInFlight)
	require.Zero(t, o.steadyRate, "the steady phase offers the baseline's rate unless told")
	o, err = parseFlags([]string{"-steady-rate", "2500"}, getenv)
	require.NoError(t, err)
	require.InDelta(t, 2500, o.steadyRate, 0)

	for _, args := range [][]string{
		{"-rounds", "0"},
		{"-burst", "0s"},
		{"-steady", "-1s"},
		{"-max-in-flight", "0"},
		{"-steady-rate", "-1"},
		{"-drain-wait", "-1s"},
		{"-duration", "10s"}, // gone: -burst and -steady say which phase
		{"-target", "127.0.0.1:8080", "-key", "k"},
	} {
		_, err := parseFlags(args, getenv)
		require.Error(t, err, "%v", args)
		require.Equal(t, 2, bench.ExitCode(err), "%v", args)
	}
}
