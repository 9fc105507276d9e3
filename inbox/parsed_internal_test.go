package inbox

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParsedCacheIsBounded: the cache holds at most two generations of
// limit entries, forgets an entry once taken, and drops the oldest
// generation when a third begins (a dropped body is decoded again from the
// stored bytes, never lost).
func TestParsedCacheIsBounded(t *testing.T) {
	c := newParsedCache(3)
	for id := range int64(7) {
		c.put(id+1, Parsed{Value: id + 1})
	}
	// Generations: {1,2,3} dropped, {4,5,6} old, {7} current.
	for id := int64(1); id <= 3; id++ {
		_, ok := c.take(id)
		require.False(t, ok, "entry %d outlived two generations", id)
	}
	for id := int64(4); id <= 7; id++ {
		p, ok := c.take(id)
		require.True(t, ok, "entry %d", id)
		require.Equal(t, id, p.Value)
		_, again := c.take(id)
		require.False(t, again, "entry %d taken twice", id)
	}
	require.Zero(t, len(c.cur)+len(c.old), "every entry taken")
}
