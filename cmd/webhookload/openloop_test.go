package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Timing tests run one at a time: on a busy machine, parallel ones would
// delay each other's schedulers.

func TestDriveOpenOffersTheRate(t *testing.T) {
	const rate = 1000.0
	warmup, window := 200*time.Millisecond, time.Second
	var mu sync.Mutex
	var sent []time.Duration
	start := time.Now()
	r := driveOpen(t.Context(), "steady", noPostgres, rate, 64, warmup, window, hooks{}, func(context.Context) outcome {
		mu.Lock()
		sent = append(sent, time.Since(start))
		mu.Unlock()
		return outcome{ok: true}
	})
	require.GreaterOrEqual(t, time.Since(start), warmup+window-lateAfter, "the sends are spread over the phase, not fired at once")
	// Every send of warm-up and window is made once, or counted as unsent:
	// at the window's very end the scheduler may be a moment too late.
	require.Equal(t, 1000, r.offer.due)
	require.Equal(t, 1200, len(sent)+r.offer.unsent)
	require.Equal(t, 1000, r.offer.started+r.offer.unsent)
	require.LessOrEqual(t, r.offer.unsent, 10)
	require.InDelta(t, 1000, r.ok, 50, "successes completed in the window")

	// At fixed intervals: each quarter of the window gets its quarter of
	// the sends, give or take a scheduler's hiccup.
	quarters := make([]int, 4)
	for _, at := range sent {
		if q := int((at - warmup) / (window / 4)); at >= warmup && q < 4 {
			quarters[q]++
		}
	}
	for q, n := range quarters {
		require.InDelta(t, 250, n, 50, "quarter %d: %v", q, quarters)
	}
}

func TestDriveOpenCountsSendsThatFoundNoSender(t *testing.T) {
	// Two senders, both held until the window closes: of the 20 sends due
	// in it, 2 start and 18 never do.
	release := make(chan struct{})
	h := hooks{windowEnd: func() { close(release) }}
	r := driveOpen(t.Context(), "steady", noPostgres, 100, 2, 0, 200*time.Millisecond, h, func(context.Context) outcome {
		<-release
		return outcome{ok: true}
	})
	require.Equal(t, 20, r.offer.due)
	require.Equal(t, 2, r.offer.started)
	require.Equal(t, 18, r.offer.unsent)
	require.Equal(t, 2, r.offer.peak)
	require.Zero(t, r.ok, "both completed after the window closed")
	require.Len(t, r.lat, 2)
	require.GreaterOrEqual(t, r.lat[0], 190*time.Millisecond, "latency runs from the due time")
}

func TestDriveOpenCountsLateSends(t *testing.T) {
	// One sender; the first send takes 100ms, so the sends due every 10ms
	// behind it start late, the first ones by far more than lateAfter.
	var mu sync.Mutex
	calls := 0
	r := driveOpen(t.Context(), "steady", noPostgres, 100, 1, 0, 300*time.Millisecond, hooks{}, func(ctx context.Context) outcome {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			timer := time.NewTimer(100 * time.Millisecond)
			defer timer.Stop()
			select {
			case <-ctx.Done():
			case <-timer.C:
			}
		}
		return outcome{ok: true}
	})
	require.Equal(t, 30, r.offer.due)
	require.Equal(t, 30, r.offer.started, "a late send still starts")
	require.Zero(t, r.offer.unsent)
	require.GreaterOrEqual(t, r.offer.late, 8, "the sends due at 10..80ms start at 100ms")
	require.GreaterOrEqual(t, r.offer.waited, 1)
	require.LessOrEqual(t, r.offer.waited, r.offer.late)
	require.Equal(t, 1, r.offer.peak)
}
