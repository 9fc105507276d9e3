package reconcile

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/models"
)

func TestSeenSetKeepsDistinctIDsDistinct(t *testing.T) {
	s := newSeenSet()
	id := models.NewID()
	require.False(t, s.has(id))
	require.True(t, s.claim(id, 1))
	require.True(t, s.has(id))

	// Other spellings of the same UUID are other ids: a payout whose id is
	// the upper-case form was not seen because the lower-case one was.
	upper := strings.ToUpper(id)
	require.False(t, s.has(upper), "upper-case spelling of a seen id")
	require.False(t, s.has("urn:uuid:"+id), "urn spelling of a seen id")
	require.True(t, s.claim(upper, 1))
	require.True(t, s.has(upper))

	// Ids that are not UUIDs at all.
	require.False(t, s.has("payout-1"))
	require.True(t, s.claim("payout-1", 1))
	require.True(t, s.claim("payout-1", 1))
	require.True(t, s.has("payout-1"))
	require.False(t, s.has("payout-2"))
	require.Equal(t, 3, s.len(), "the UUID, its upper-case spelling and payout-1")
}

// A payout on two pages (the list shifted under the stream) is compared by
// the later page: once that page has claimed it, the earlier one may not.
func TestSeenSetLaterPageWins(t *testing.T) {
	for _, id := range []string{models.NewID(), "payout-1"} {
		s := newSeenSet()
		require.True(t, s.claim(id, 3), "first claim")
		require.True(t, s.claim(id, 3), "the same page again (a retried transaction)")
		require.False(t, s.claim(id, 2), "an earlier page after a later one")
		require.True(t, s.claim(id, 4), "a later page after an earlier one")
		require.False(t, s.claim(id, 3), "the earlier page once the later one claimed")
		require.True(t, s.claim(id, confirmationSeq), "a confirmation after the stream")
		require.True(t, s.has(id))
	}
}

func TestSeenSetConcurrentClaims(t *testing.T) {
	s := newSeenSet()
	ids := make([]string, 4000)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for _, id := range ids[w*1000 : (w+1)*1000] {
				s.claim(id, uint32(w+1))
			}
		})
	}
	wg.Wait()
	require.Equal(t, len(ids), s.len())
	for _, id := range ids {
		require.True(t, s.has(id), id)
	}
}
