package reconcile

import (
	"sync"

	"github.com/google/uuid"
)

// seenSet is the payouts a run saw at Coinflow, by id, each with the place
// in the stream of the latest page that claimed it. It lives in memory for
// the run rather than being stamped on each payout row: a run over a
// million withdraws that agree then writes nothing for them. payoutd's ids
// are UUIDs and take 16 bytes each (plus 4 for the place); any other id is
// kept as a string. Safe for concurrent use.
type seenSet struct {
	mu    sync.Mutex
	uuids map[uuid.UUID]uint32
	other map[string]uint32
}

func newSeenSet() *seenSet {
	return &seenSet{uuids: map[uuid.UUID]uint32{}, other: map[string]uint32{}}
}

// claim records id as seen on the page at place seq, and reports whether
// that page may compare it: false when a later page already claimed it.
// A page may claim again what it claimed before (a retried transaction).
func (s *seenSet) claim(id string, seq uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := canonicalUUID(id); ok {
		return claimIn(s.uuids, u, seq)
	}
	return claimIn(s.other, id, seq)
}

func claimIn[K comparable](m map[K]uint32, k K, seq uint32) bool {
	if had, ok := m[k]; ok && had > seq {
		return false
	}
	m[k] = seq
	return true
}

// has reports whether id was seen.
func (s *seenSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := canonicalUUID(id); ok {
		_, seen := s.uuids[u]
		return seen
	}
	_, seen := s.other[id]
	return seen
}

// len is how many distinct ids were seen.
func (s *seenSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.uuids) + len(s.other)
}

// canonicalUUID parses id when it is a UUID in the canonical lower-case
// form NewID writes, and only then: uuid.Parse also accepts other
// spellings of the same UUID (upper case, braces, urn:uuid:), and two
// distinct id strings must never count as one payout.
func canonicalUUID(id string) (uuid.UUID, bool) {
	if len(id) != 36 {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(id)
	if err != nil || u.String() != id {
		return uuid.UUID{}, false
	}
	return u, true
}
