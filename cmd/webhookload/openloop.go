package main

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// lateAfter is how far behind its time a send may start and still count as
// on time: about a timer's slack on a busy machine.
const lateAfter = 10 * time.Millisecond

// schedule is how an open-loop phase kept to its timetable. Every count is
// of the sends due inside the measured window.
type schedule struct {
	rate    float64 // sends per second asked for
	senders int     // the bound on sends in flight
	due     int     // sends the timetable put inside the window
	started int     // of those, sends that started
	late    int     // of those, sends that started more than lateAfter behind their time
	waited  int     // of the late ones, sends that waited for a free sender
	unsent  int     // sends that never started: every sender was busy until the window closed
	peak    int     // most sends in flight at once, over the whole phase
}

// offered is the rate the phase really offered: sends started in the window
// per second of it.
func (s *schedule) offered(window time.Duration) float64 {
	return float64(s.started) / window.Seconds()
}

// driveOpen offers op at rate per second for warmup+window (an open loop):
// send i is due at i/rate whatever the earlier ones came to, on one of up to
// senders goroutines. A send that cannot start on time, because the
// scheduler fell behind or every sender is busy, starts late and is counted
// so; one that still has no sender when the window closes is counted as
// unsent. Latency runs from a send's due time, so that waiting for a sender
// is part of it. drive's rules apply otherwise.
func driveOpen(ctx context.Context, name, pgDB string, rate float64, senders int, warmup, window time.Duration, h hooks, op func(ctx context.Context) outcome) *result {
	t0 := time.Now()
	winStart, winEnd := warmup, warmup+window
	cpu := watchWindow(ctx, t0, winStart, winEnd, pgDB, h)
	dueAt := func(i int) time.Duration { return time.Duration(float64(i) * float64(time.Second) / rate) }
	inWindow := func(i int) bool { return dueAt(i) >= winStart && dueAt(i) < winEnd }
	n := int(math.Ceil(winEnd.Seconds() * rate)) // the sends due before the window closes
	for n > 0 && dueAt(n-1) >= winEnd {
		n--
	}

	s := &schedule{rate: rate, senders: senders}
	samples := make([]sample, n)
	free := make(chan struct{}, senders)
	var inFlight atomic.Int64
	peak := int64(0)
	windowClosed := time.NewTimer(time.Until(t0.Add(winEnd)))
	defer windowClosed.Stop()
	var wg sync.WaitGroup
	issued := 0
schedule:
	for ; issued < n; issued++ {
		due := dueAt(issued)
		if wait := due - time.Since(t0); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				break schedule
			case <-t.C:
			}
		}
		waited := false
		select {
		case free <- struct{}{}:
		default:
			waited = true
			select {
			case free <- struct{}{}:
			case <-windowClosed.C:
				break schedule
			case <-ctx.Done():
				break schedule
			}
		}
		began := time.Since(t0)
		if began >= winEnd {
			<-free
			break
		}
		if inWindow(issued) {
			s.started++
			if began-due > lateAfter {
				s.late++
				if waited {
					s.waited++
				}
			}
		}
		peak = max(peak, inFlight.Add(1))
		i := issued
		wg.Go(func() {
			out := op(ctx)
			samples[i] = sample{start: due, end: time.Since(t0), outcome: out}
			inFlight.Add(-1)
			<-free
		})
	}
	for i := range n {
		if inWindow(i) {
			s.due++
			if i >= issued {
				s.unsent++
			}
		}
	}
	wg.Wait()
	s.peak = int(peak)
	r := summarize(name, t0, warmup, window, cpu(), samples[:issued])
	r.offer = s
	return r
}
