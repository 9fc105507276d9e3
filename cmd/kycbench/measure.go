package main

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
)

// Go heap figures read during the sweep: runtime/metrics, which does not
// stop the world as ReadMemStats does.
const (
	heapObjects = "/memory/classes/heap/objects:bytes" // live and not yet swept
	heapLive    = "/gc/heap/live:bytes"                // marked live by the last GC
)

// measurement is what runs beside the sweep: a sampler of the Go heap
// (every 10ms) and of VmRSS (every 50ms), started after the baseline is
// read and VmHWM reset.
type measurement struct {
	began    time.Time
	stop     chan struct{}
	done     chan struct{}
	ms       runtime.MemStats
	rssBase  int64
	hwmReset bool
	heapBase uint64
	liveBase uint64
	// Written by the sampler until done is closed.
	heapPeak, livePeak uint64
	rssPeak            int64
}

func readHeap(s []metrics.Sample) (objects, live uint64) {
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func readRSS() int64 {
	st, err := bench.ProcStatus(os.Getpid(), "VmRSS")
	if err != nil {
		return 0
	}
	return st["VmRSS"]
}

// measure takes the baseline after clearing setup's garbage, resets VmHWM
// and starts sampling; call it just before the sweep.
//
// With memProfile set, the heap profile (as of the last GC) is written
// there each time the live heap reaches a new high, so that the file ends
// up holding the profile at the sweep's largest live heap.
func measure(memProfile string) *measurement {
	clearGarbage()
	m := &measurement{stop: make(chan struct{}), done: make(chan struct{})}
	runtime.ReadMemStats(&m.ms)
	s := []metrics.Sample{{Name: heapObjects}, {Name: heapLive}}
	m.heapBase, m.liveBase = readHeap(s)
	m.rssBase = readRSS()
	// Linux clear_refs "5": VmHWM back to the current VmRSS, so the peak
	// read after the sweep is the sweep's.
	m.hwmReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	m.heapPeak, m.livePeak, m.rssPeak = m.heapBase, m.liveBase, m.rssBase
	go func() {
		defer close(m.done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			h, l := readHeap(s)
			if memProfile != "" && l > m.livePeak+(1<<20) {
				writeHeapProfile(memProfile)
			}
			m.heapPeak, m.livePeak = max(m.heapPeak, h), max(m.livePeak, l)
			if i%5 == 0 {
				m.rssPeak = max(m.rssPeak, readRSS())
			}
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	m.began = time.Now()
	return m
}

// finish stops sampling, reads the peak and fills res's memory figures and
// the sweep's wall time.
func (m *measurement) finish(res *result) {
	res.Took = time.Since(m.began)
	close(m.stop)
	<-m.done
	s := []metrics.Sample{{Name: heapObjects}, {Name: heapLive}}
	h, l := readHeap(s)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	res.RSSBase, res.HWMReset = m.rssBase, m.hwmReset
	res.RSSSample = max(m.rssPeak, readRSS())
	if st, err := bench.ProcStatus(os.Getpid(), "VmHWM"); err == nil {
		res.RSSPeak = st["VmHWM"]
	}
	res.HeapBase, res.HeapPeak = m.heapBase, max(m.heapPeak, h)
	res.LiveBase, res.LivePeak = m.liveBase, max(m.livePeak, l)
	res.GCs = after.NumGC - m.ms.NumGC
	res.Alloc = after.TotalAlloc - m.ms.TotalAlloc
}

// writeHeapProfile writes the heap profile to path; a failure is left for
// the reader to notice (the file is absent or old).
func writeHeapProfile(path string) {
	var buf bytes.Buffer
	if pprof.Lookup("heap").WriteTo(&buf, 0) == nil {
		_ = os.WriteFile(path, buf.Bytes(), 0o644)
	}
}
