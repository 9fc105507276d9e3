package kyc

import (
	"context"
	"time"
)

// window allows at most n events in any span of per: a log of the last n
// event times, so it never exceeds the limit however the calls bunch up.
// slow multiplies per after Coinflow throttles payoutd.
type window struct {
	n     int
	per   time.Duration
	slow  int
	times []time.Time // oldest first, at most n
}

func newWindow(n int, per time.Duration) *window { return &window{n: n, per: per, slow: 1} }

// span is the window's length now.
func (w *window) span() time.Duration { return w.per * time.Duration(w.slow) }

// wait blocks until one more event fits, then records it at the time now
// reports.
func (w *window) wait(ctx context.Context, now func() time.Time, sleep func(context.Context, time.Duration) error) error {
	for {
		t := now()
		if len(w.times) < w.n {
			w.times = append(w.times, t)
			return nil
		}
		free := w.times[0].Add(w.span())
		if !t.Before(free) {
			w.times = append(w.times[1:], t)
			return nil
		}
		if err := sleep(ctx, free.Sub(t)); err != nil {
			return err
		}
	}
}

// note records an event that has already happened (a not-found answer).
func (w *window) note(t time.Time) {
	if len(w.times) == w.n {
		w.times = w.times[1:]
	}
	w.times = append(w.times, t)
}

// full reports whether another event now would exceed the limit, and when
// one fits again.
func (w *window) full(t time.Time) (bool, time.Time) {
	if len(w.times) < w.n {
		return false, t
	}
	free := w.times[0].Add(w.span())
	return t.Before(free), free
}

// throttled slows the window down (up to 16 times) after a 429.
func (w *window) throttled() { w.slow = min(w.slow*2, 16) }

// relax returns to the documented rate after a sweep without a 429.
func (w *window) relax() { w.slow = 1 }
