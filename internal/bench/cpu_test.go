package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCPUTimesSince(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	before := CPUTimes{at: t0, machineOK: true, machineBusy: 10 * time.Second, machineTotal: 40 * time.Second,
		self: 2 * time.Second, postgres: 3 * time.Second, postgresProcs: 5}
	for _, tc := range []struct {
		name  string
		after CPUTimes
		want  CPUUsage
	}{
		{
			// Two seconds on 2 CPUs: 4 CPU seconds, 3 of them busy.
			name: "busy",
			after: CPUTimes{at: t0.Add(2 * time.Second), machineOK: true, machineBusy: 16 * time.Second, machineTotal: 44 * time.Second,
				self: 3 * time.Second, postgres: 4 * time.Second, postgresProcs: 6},
			want: CPUUsage{OK: true, CPUs: 2, Busy: 3, Self: 0.5, Postgres: 0.5, PostgresProcs: 6},
		},
		{
			name: "backends exited in between",
			after: CPUTimes{at: t0.Add(time.Second), machineOK: true, machineBusy: 11 * time.Second, machineTotal: 42 * time.Second,
				self: 2 * time.Second, postgres: time.Second, postgresProcs: 2},
			want: CPUUsage{OK: true, CPUs: 2, Busy: 1, PostgresProcs: 2},
		},
		{
			name:  "machine unread",
			after: CPUTimes{at: t0.Add(time.Second), self: 3 * time.Second},
		},
		{
			name:  "no time passed",
			after: before,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := tc.after.Since(before)
			require.Equal(t, tc.want.OK, got.OK)
			require.InDelta(t, tc.want.CPUs, got.CPUs, 1e-9)
			require.InDelta(t, tc.want.Busy, got.Busy, 1e-9)
			require.InDelta(t, tc.want.Self, got.Self, 1e-9)
			require.InDelta(t, tc.want.Postgres, got.Postgres, 1e-9)
			require.Equal(t, tc.want.PostgresProcs, got.PostgresProcs)
		})
	}
}

func TestCPUUsageOther(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 1.25, CPUUsage{Busy: 2, Self: 0.5, Postgres: 0.25}.Other(), 1e-9)
	// Readings taken a moment apart can bill more than the machine saw.
	require.Zero(t, CPUUsage{Busy: 0.5, Self: 0.5, Postgres: 0.25}.Other())
}

func TestReadCPU(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat: not Linux")
	}
	before := ReadCPU("benchtest_no_such_database")
	require.True(t, before.machineOK)
	// Spin until this process has been billed at least a tick.
	for ReadCPU("benchtest_no_such_database").self-before.self < 2*clockTick {
	}
	u := ReadCPU("benchtest_no_such_database").Since(before)
	require.True(t, u.OK)
	require.Positive(t, u.CPUs)
	require.Positive(t, u.Self)
	require.GreaterOrEqual(t, u.Postgres, 0.0)
}

func TestWaitQuietEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	load := WaitQuiet(ctx, time.Hour, func(float64, time.Duration) { t.Error("busy called after the context ended") })
	require.Zero(t, load)
}

func TestSleepUntil(t *testing.T) {
	t.Parallel()
	require.True(t, SleepUntil(t.Context(), time.Now().Add(time.Millisecond)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.False(t, SleepUntil(ctx, time.Now().Add(time.Hour)))
}
