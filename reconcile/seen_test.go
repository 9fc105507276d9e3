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
	s.add(id)
	require.True(t, s.has(id))

	// Other spellings of the same UUID are other ids: a payout whose id is
	// the upper-case form was not seen because the lower-case one was.
	upper := strings.ToUpper(id)
	require.False(t, s.has(upper), "upper-case spelling of a seen id")
	require.False(t, s.has("urn:uuid:"+id), "urn spelling of a seen id")
	require.False(t, s.has("{"+id+"}"), "braced spelling of a seen id")
	require.False(t, s.has(strings.ReplaceAll(id, "-", "")), "unhyphenated spelling of a seen id")
	s.add(upper)
	require.True(t, s.has(upper))

	// Ids that are not UUIDs at all.
	require.False(t, s.has("payout-1"))
	s.add("payout-1", "payout-1")
	require.True(t, s.has("payout-1"))
	require.False(t, s.has("payout-2"))
	require.Equal(t, 3, s.len(), "the UUID, its upper-case spelling and payout-1")
}

func TestSeenSetConcurrentAdds(t *testing.T) {
	s := newSeenSet()
	ids := make([]string, 4000)
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7()).String()
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { s.add(ids[w*1000 : (w+1)*1000]...) })
	}
	wg.Wait()
	require.Equal(t, len(ids), s.len())
	for _, id := range ids {
		require.True(t, s.has(id), id)
	}
}

// TestCanonicalUUIDTakesTheFormNewIDWrites: canonicalUUID accepts exactly
// the strings that parse as a UUID and format back to themselves.
func TestCanonicalUUIDTakesTheFormNewIDWrites(t *testing.T) {
	id := models.NewID()
	cases := []string{id, strings.ToUpper(id), "{" + id + "}", "urn:uuid:" + id, strings.ReplaceAll(id, "-", ""), "", "payout-1"}
	for i := range len(id) {
		for _, c := range []byte{'0', '9', 'a', 'f', 'A', 'F', 'g', '-', ' '} {
			b := []byte(id)
			b[i] = c
			cases = append(cases, string(b))
		}
	}
	for _, s := range cases {
		u, err := uuid.Parse(s)
		want := err == nil && u.String() == s
		got, ok := canonicalUUID(s)
		require.Equal(t, want, ok, "%q", s)
		if ok {
			require.Equal(t, u, got, "%q", s)
		}
	}
}
