package main

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
)

// sample is what one timed run cost.
type sample struct {
	took    time.Duration
	cpu     bench.CPUUsage
	before  float64 // machine load (cores) in the second before the run
	peakRSS int64   // VmHWM after the run (reset before it when hwmSet)
	hwmSet  bool
	rssBase int64 // VmRSS just before the run
	rssMax  int64 // sampled VmRSS
	rssMean int64
	samples int
	alloc   uint64 // bytes allocated during the run
	mallocs uint64
	gcs     uint32
}

// timed measures fn as one run: it waits for the machine to quieten,
// collects the garbage of what came before and resets the peak RSS, then
// times fn, samples its RSS and, when profile is set, writes its CPU
// profile there. pgDB is the database whose PostgreSQL backends' CPU is
// the run's.
func timed(ctx context.Context, o options, pgDB, profile string, progress func(string, ...any), fn func() error) (sample, error) {
	var s sample
	s.before = waitQuiet(ctx, o.waitQuiet, progress)
	runtime.GC()
	debug.FreeOSMemory()
	s.hwmSet = resetPeakRSS()
	if st, err := bench.ProcStatus(os.Getpid(), "VmRSS"); err == nil {
		s.rssBase = st["VmRSS"]
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stopProfile := func() {}
	if profile != "" {
		var err error
		if stopProfile, err = startCPUProfile(profile); err != nil {
			return s, err
		}
	}
	sampler := sampleRSS(100 * time.Millisecond)
	cpuBefore := bench.ReadCPU(pgDB)
	start := time.Now()
	err := fn()
	s.took = time.Since(start)
	s.cpu = bench.ReadCPU(pgDB).Since(cpuBefore)
	stopProfile()
	s.rssMax, s.rssMean, s.samples = sampler.finish()
	runtime.ReadMemStats(&after)
	s.alloc, s.mallocs, s.gcs = after.TotalAlloc-before.TotalAlloc, after.Mallocs-before.Mallocs, after.NumGC-before.NumGC
	if st, err := bench.ProcStatus(os.Getpid(), "VmHWM"); err == nil {
		s.peakRSS = st["VmHWM"]
	}
	return s, err
}

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
