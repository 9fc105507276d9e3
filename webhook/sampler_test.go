package webhook

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSamplerLetsLimitASecondThroughAndCountsTheRest steps a clock through
// windows and checks each decision: the first limit lines of a second are
// written, the rest are counted, and the count is handed, once, to the
// first line of a later second, with the start of the first window that
// held lines back.
func TestSamplerLetsLimitASecondThroughAndCountsTheRest(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	now := base
	s := newSampler(3, func() time.Time { return now })
	type step struct {
		at   time.Duration // since base
		want sampled
	}
	steps := []step{
		{0, sampled{log: true}},
		{100 * time.Millisecond, sampled{log: true}},
		{999 * time.Millisecond, sampled{log: true}},
		{999 * time.Millisecond, sampled{}}, // the 4th in the second
		{999 * time.Millisecond, sampled{}},
		// A new second: the two held back are reported with the first line.
		{time.Second, sampled{log: true, notLogged: 2, notLoggedSince: base}},
		{time.Second + time.Millisecond, sampled{log: true}},
		{time.Second + 2*time.Millisecond, sampled{log: true}},
		{time.Second + 3*time.Millisecond, sampled{}},
		// A quiet second in between: the count waits for the next line.
		{3 * time.Second, sampled{log: true, notLogged: 1, notLoggedSince: base.Add(time.Second)}},
		{3*time.Second + time.Millisecond, sampled{log: true}},
		{4 * time.Second, sampled{log: true}}, // nothing held back: nothing to report
	}
	for i, st := range steps {
		now = base.Add(st.at)
		require.Equal(t, st.want, s.next(), "step %d at +%v", i, st.at)
	}
}

// TestSamplerWindowsAreWholeSeconds: a clock that starts mid-second gets a
// fresh window at the next whole second, not a second after its first line.
func TestSamplerWindowsAreWholeSeconds(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 3, 14, 9, 0, 0, 500_000_000, time.UTC) // mid-second: windows align to whole seconds
	now := base
	s := newSampler(1, func() time.Time { return now })
	require.Equal(t, sampled{log: true}, s.next())
	require.Equal(t, sampled{}, s.next())
	require.Equal(t, sampled{}, s.next())
	now = base.Add(500 * time.Millisecond) // the next whole second
	got := s.next()
	require.Equal(t, sampled{log: true, notLogged: 2, notLoggedSince: base.Truncate(time.Second)}, got)
	require.Equal(t, sampled{}, s.next())
	now = now.Add(time.Second)
	require.Equal(t, sampled{log: true, notLogged: 1, notLoggedSince: base.Truncate(time.Second).Add(time.Second)}, s.next())
}
