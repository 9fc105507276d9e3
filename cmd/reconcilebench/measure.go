package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// procStatus reads fields in kB (VmRSS, VmHWM) from /proc/self/status, in
// bytes.
func procStatus(fields ...string) (map[string]int64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		for _, f := range fields {
			if name != f {
				continue
			}
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("parse %s %q: %w", name, rest, err)
			}
			out[name] = kb << 10
		}
	}
	return out, nil
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
	st, err := procStatus("VmRSS")
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

// cpuTimes is CPU time spent so far: by this process, by PostgreSQL for
// the benchmark's database, and by the whole machine, which other tenants
// may share.
type cpuTimes struct {
	at           time.Time
	self         time.Duration
	postgres     time.Duration
	machineBusy  time.Duration
	machineTotal time.Duration
	ok           bool
}

// USER_HZ, the unit of /proc CPU times.
const clockTick = 10 * time.Millisecond

// readCPU reads the CPU times; dbName selects the PostgreSQL backends to
// count (with the server's own processes: WAL writer, checkpointer, ...),
// "" none.
func readCPU(dbName string) cpuTimes {
	c := cpuTimes{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if dbName != "" {
		c.postgres = postgresCPU(dbName)
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return c
	}
	// user nice system idle iowait irq softirq steal (guest time that
	// follows is already in user).
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return c
		}
		c.machineTotal += time.Duration(n) * clockTick
		if i != 3 && i != 4 { // idle, iowait
			c.machineBusy += time.Duration(n) * clockTick
		}
	}
	c.ok = true
	return c
}

// postgresCPU sums utime+stime of the PostgreSQL server's processes and of
// the backends connected to dbName, leaving out other databases' clients
// on a shared server. A backend that exits takes its time with it; the
// store keeps its connections for the whole run.
func postgresCPU(dbName string) time.Duration {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		// A backend's title is "postgres: 15/main: USER DB HOST(PORT) STATE";
		// the server's own processes have no client address.
		title, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		if bytes.IndexByte(title, '(') >= 0 && !bytes.Contains(title, []byte(" "+dbName+" ")) {
			continue
		}
		fields := strings.Fields(string(b[end+1:]))
		if len(fields) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		total += time.Duration(utime+stime) * clockTick
	}
	return total
}

// cpuUsage is CPU used between two readings, in cores.
type cpuUsage struct {
	ok                                bool
	cpus, busy, self, postgres, other float64
}

func (c cpuTimes) since(b cpuTimes) cpuUsage {
	wall := c.at.Sub(b.at).Seconds()
	if !c.ok || !b.ok || wall <= 0 || c.machineTotal <= b.machineTotal {
		return cpuUsage{}
	}
	u := cpuUsage{
		ok:       true,
		cpus:     (c.machineTotal - b.machineTotal).Seconds() / wall,
		busy:     (c.machineBusy - b.machineBusy).Seconds() / wall,
		self:     (c.self - b.self).Seconds() / wall,
		postgres: (c.postgres - b.postgres).Seconds() / wall,
	}
	u.other = max(u.busy-u.self-u.postgres, 0)
	return u
}

// quietLoad is the load from others, in cores, under which a run starts.
const quietLoad = 0.25

// waitQuiet waits up to limit for a second in which the machine is nearly
// idle, and returns the load of the last second it watched.
func waitQuiet(ctx context.Context, limit time.Duration, progress func(string, ...any)) float64 {
	deadline := time.Now().Add(limit)
	var said time.Time
	for {
		before := readCPU("")
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Second):
		}
		load := readCPU("").since(before).busy
		if load < quietLoad || !time.Now().Before(deadline) {
			return load
		}
		if time.Since(said) >= 15*time.Second {
			progress("machine busy (%.2f cores) before the run; waiting up to %s more for it to quieten", load, time.Until(deadline).Round(time.Second))
			said = time.Now()
		}
	}
}
