package kyc

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWindowNeverExceedsItsLimit: however calls bunch up, no span of the
// window's length holds more than n of them, and slowing down widens the
// span.
func TestWindowNeverExceedsItsLimit(t *testing.T) {
	for _, slow := range []bool{false, true} {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		sleep := func(_ context.Context, d time.Duration) error { now = now.Add(d); return nil }
		w := newWindow(3, time.Minute)
		if slow {
			w.throttled()
		}
		var at []time.Time
		for range 10 {
			require.NoError(t, w.wait(t.Context(), clock, sleep))
			at = append(at, now)
		}
		for i := range at {
			in := 0
			for j := i; j < len(at) && at[j].Sub(at[i]) < w.span(); j++ {
				in++
			}
			require.LessOrEqual(t, in, 3, "calls within %s of call %d", w.span(), i)
		}
		want := 3 * time.Minute
		if slow {
			want = 6 * time.Minute
		}
		require.Equal(t, want, at[9].Sub(at[0]), "10 calls at 3 per span take 3 spans")
		w.relax()
		require.Equal(t, time.Minute, w.span())
	}
}

func TestWindowFullAfterNotedEvents(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newWindow(2, 10*time.Second)
	w.note(t0)
	full, _ := w.full(t0)
	require.False(t, full)
	w.note(t0.Add(time.Second))
	full, free := w.full(t0.Add(2 * time.Second))
	require.True(t, full)
	require.Equal(t, t0.Add(10*time.Second), free)
	full, _ = w.full(t0.Add(10 * time.Second))
	require.False(t, full)
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	for checks, want := range map[int]time.Duration{
		0: time.Minute, 1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 7: 60 * time.Minute, 40: 60 * time.Minute,
	} {
		require.Equal(t, want, backoff(time.Minute, time.Hour, checks), "after %d checks", checks)
	}
}
