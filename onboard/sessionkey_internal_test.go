package onboard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKeyCacheDropsExpiredKeys: the cache holds users with a live key, not
// every user who ever asked for one.
func TestKeyCacheDropsExpiredKeys(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	c := newKeyCache()
	for i, life := range []time.Duration{time.Hour, 48 * time.Hour} {
		e := c.entry(string(rune('a'+i)), t0)
		e.key, e.expires = "k", t0.Add(life)
	}
	c.entry("c", t0.Add(time.Minute)) // within purgeEvery: nothing dropped
	require.Len(t, c.keys, 3)
	c.entry("c", t0.Add(2*time.Hour))
	require.NotContains(t, c.keys, "a", "expired")
	require.Contains(t, c.keys, "b", "still live")
}
