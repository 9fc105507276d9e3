package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLagOf(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	from, to, readAt := at(0), at(10*time.Second), at(20*time.Second)
	evs := []eventTimes{
		{received: at(-time.Second), processed: at(500 * time.Millisecond)},                // warm-up's, applied in the window
		{received: at(time.Second), processed: at(1200 * time.Millisecond)},                // accepted and applied in the window
		{received: at(2 * time.Second), processed: at(12 * time.Second)},                   // accepted, applied after it
		{received: at(9 * time.Second)},                                                    // accepted, never applied
		{received: at(11 * time.Second)},                                                   // after the window
		{received: at(10*time.Second - time.Microsecond), processed: at(10 * time.Second)}, // accepted, applied at the very end
	}
	st := lagOf(evs, from, to, readAt)
	require.Equal(t, 4, st.accepted)
	require.Equal(t, 2, st.applied)
	require.Equal(t, 3, st.backlog, "received before the end, not processed by it")
	require.Equal(t, 1, st.unapplied)
	require.Equal(t, []time.Duration{time.Microsecond, 200 * time.Millisecond, 10 * time.Second, 11 * time.Second}, st.lags)
	require.Equal(t, 11*time.Second, st.percentile(0.99), "the unapplied event's lag so far is the worst, and it counts")
	require.Equal(t, 200*time.Millisecond, st.percentile(0.50))
	require.InDelta(t, 0.2, st.appliedRate(to.Sub(from)), 1e-9)
}

func TestLagOfEmpty(t *testing.T) {
	t.Parallel()
	now := time.Now()
	st := lagOf(nil, now, now.Add(time.Second), now.Add(time.Second))
	require.Zero(t, st.accepted)
	require.Zero(t, st.percentile(0.99))
}
