package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/bench"
)

func noEnv(string) string { return "" }

func TestParseFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags(nil, noEnv)
	require.NoError(t, err)
	require.Equal(t, []int{1_000_000}, o.sizes)
	require.Equal(t, 3, o.runs)
	require.Equal(t, 4, o.pagesAhead)

	o, err = parseFlags([]string{"-scaling", "-runs", "1", "-pages-ahead", "2"}, noEnv)
	require.NoError(t, err)
	require.Equal(t, []int{100_000, 1_000_000}, o.sizes)
	require.Equal(t, 1, o.runs)
	require.Equal(t, 2, o.pagesAhead)

	for _, args := range [][]string{{"-runs", "0"}, {"-pages-ahead", "0"}, {"-n", "0"}, {"-database-url", "mysql://x"}} {
		_, err := parseFlags(args, noEnv)
		require.Error(t, err, "%v", args)
		require.Equal(t, 2, bench.ExitCode(err), "%v is a usage error", args)
	}
}

func TestMedian(t *testing.T) {
	t.Parallel()
	vs := []time.Duration{5, 1, 3}
	require.Equal(t, time.Duration(3), median(vs))
	require.Equal(t, []time.Duration{5, 1, 3}, vs, "the runs keep their order")
	require.Equal(t, 2, median([]int{4, 1, 2, 3}), "the lower middle of an even count")
	require.Equal(t, 7, median([]int{7}))
}

func TestProfilePath(t *testing.T) {
	t.Parallel()
	o := options{cpuProfile: "/tmp/p", sizes: []int{1_000_000}}
	require.Equal(t, "/tmp/p", profilePath(o, 1_000_000, "", true))
	require.Equal(t, "/tmp/p.paging", profilePath(o, 1_000_000, "paging", true))
	require.Empty(t, profilePath(o, 1_000_000, "", false), "only the last run is profiled")
	o.sizes = []int{100_000, 1_000_000}
	require.Equal(t, "/tmp/p.paging.100000", profilePath(o, 100_000, "paging", true))
	require.Empty(t, profilePath(options{sizes: []int{10}}, 10, "", true))
}
