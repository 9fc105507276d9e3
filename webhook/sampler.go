package webhook

import (
	"sync"
	"time"
)

// sampler bounds the log lines about successful deliveries: at most limit a
// second by its clock, in windows aligned to whole seconds. What a full
// window holds back is counted, and reported by the first delivery of a
// later window (so a burst's last window is reported when traffic resumes,
// not by a timer). It is deterministic for a given clock.
type sampler struct {
	limit int
	now   func() time.Time

	mu      sync.Mutex
	window  time.Time // start of the current window
	logged  int       // lines let through in it
	dropped int       // lines held back since the last report
	since   time.Time // start of the first window that held one back
}

// sampled is what a sampler decides for one line.
type sampled struct {
	log bool // write this line
	// notLogged lines were held back in windows since notLoggedSince and
	// not yet reported: report them before this line.
	notLogged      int
	notLoggedSince time.Time
}

func newSampler(limit int, now func() time.Time) *sampler {
	return &sampler{limit: limit, now: now}
}

// next decides for one line.
func (s *sampler) next() sampled {
	w := s.now().UTC().Truncate(time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out sampled
	if !w.Equal(s.window) {
		s.window, s.logged = w, 0
		if s.dropped > 0 {
			out.notLogged, out.notLoggedSince = s.dropped, s.since
			s.dropped = 0
		}
	}
	if s.logged < s.limit {
		s.logged++
		out.log = true
		return out
	}
	if s.dropped == 0 {
		s.since = s.window
	}
	s.dropped++
	return out
}
