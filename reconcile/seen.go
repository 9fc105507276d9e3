package reconcile

import (
	"sync"

	"github.com/google/uuid"
)

// seenSet is the payouts a run saw at Coinflow, by id. It lives in memory
// for the run rather than being stamped on each payout row: a run over a
// million withdraws that agree then writes nothing for them. payoutd's ids
// are UUIDs and take 16 bytes each (about 20-40 MB for a million); any other
// id is kept as a string. Safe for concurrent use.
type seenSet struct {
	mu    sync.Mutex
	uuids map[uuid.UUID]struct{}
	other map[string]struct{}
}

func newSeenSet() *seenSet {
	return &seenSet{uuids: map[uuid.UUID]struct{}{}, other: map[string]struct{}{}}
}

// add records ids as seen.
func (s *seenSet) add(ids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if u, ok := canonicalUUID(id); ok {
			s.uuids[u] = struct{}{}
		} else {
			s.other[id] = struct{}{}
		}
	}
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
// distinct id strings must never count as one payout. The form is checked
// byte by byte rather than by formatting the parsed UUID back, which
// allocated a string for each of a million ids.
func canonicalUUID(id string) (uuid.UUID, bool) {
	if len(id) != 36 {
		return uuid.UUID{}, false
	}
	for i := range len(id) {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return uuid.UUID{}, false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return uuid.UUID{}, false
			}
		}
	}
	u, err := uuid.Parse(id)
	return u, err == nil
}
