package main

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
)

// resetPeakRSS sets VmHWM back to the current VmRSS (Linux clear_refs
// "5"), so that the peak read after the run is the run's.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// rssSampler reads VmRSS every interval until stopped.
type rssSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	max  int64
	sum  int64
	n    int
}

func sampleRSS(every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	st, err := bench.ProcStatus(os.Getpid(), "VmRSS")
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.max = max(s.max, st["VmRSS"])
	s.sum += st["VmRSS"]
	s.n++
}

// finish stops sampling and returns the largest and the mean VmRSS seen.
func (s *rssSampler) finish() (peak, mean int64, samples int) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n > 0 {
		mean = s.sum / int64(s.n)
	}
	return s.max, mean, s.n
}

// waitQuiet waits up to limit for the machine to be nearly idle before the
// run, saying so at most every 15s, and returns the load of the last second
// it watched.
func waitQuiet(ctx context.Context, limit time.Duration, progress func(string, ...any)) float64 {
	var said time.Time
	return bench.WaitQuiet(ctx, limit, func(load float64, left time.Duration) {
		if time.Since(said) >= 15*time.Second {
			progress("machine busy (%.2f cores) before the run; waiting up to %s more for it to quieten", load, left.Round(time.Second))
			said = time.Now()
		}
	})
}
