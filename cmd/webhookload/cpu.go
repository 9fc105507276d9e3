package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of /proc CPU times (100 on every Linux
// this runs on).
const clockTick = 100

// cpuStat is a point-in-time reading of CPU time spent: by the whole
// machine, by this process and by PostgreSQL for the database under load.
type cpuStat struct {
	at            time.Time
	machineBusy   float64 // seconds, all CPUs
	machineTotal  float64
	self          float64
	postgres      float64
	postgresProcs int
	pgDB          string
}

// cpuUsage is what was spent between two readings, in cores (CPU seconds
// per second).
type cpuUsage struct {
	valid        bool
	cpus         float64 // CPUs the machine accounted for
	machineBusy  float64
	self         float64
	postgres     float64
	postgresSeen bool
}

// other is what neither this process nor PostgreSQL's work for it used:
// other tenants of a shared machine, and the kernel's time nobody is billed.
func (u cpuUsage) other() float64 { return max(u.machineBusy-u.self-u.postgres, 0) }

// backgroundLoad samples the machine for d and returns the cores busy.
func backgroundLoad(ctx context.Context, d time.Duration) float64 {
	before := readMachine()
	if !sleepUntil(ctx, before.at.Add(d)) {
		return 0
	}
	return readMachine().since(before).machineBusy
}

// waitQuiet waits up to limit for a second in which the machine is nearly
// idle (other tenants share it), and returns the last load it saw.
func waitQuiet(ctx context.Context, limit time.Duration, progress func(string, ...any)) float64 {
	deadline := time.Now().Add(limit)
	for {
		load := backgroundLoad(ctx, time.Second)
		if load < quietLoad || time.Now().After(deadline) || ctx.Err() != nil {
			return load
		}
		progress("machine busy (%.2f cores before the phase starts); waiting for it to quieten", load)
	}
}

// noPostgres names no database: the load does not use PostgreSQL.
const noPostgres = "-"

// quietLoad is the background load, in cores, under which a phase starts.
const quietLoad = 0.25

func readCPU(pgDB string) cpuStat {
	s := readMachine()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	s.postgres, s.postgresProcs = postgresCPU(pgDB)
	s.pgDB = pgDB
	return s
}

// readMachine reads the machine's CPU time from /proc/stat.
func readMachine() cpuStat {
	s := cpuStat{at: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := bytes.Cut(b, []byte("\n"))
		fields := strings.Fields(string(line))
		if len(fields) > 5 && fields[0] == "cpu" {
			// user nice system idle iowait irq softirq steal; guest and
			// guest_nice that follow are already counted in user and nice.
			for i, f := range fields[1:min(len(fields), 9)] {
				v, _ := strconv.ParseFloat(f, 64)
				s.machineTotal += v / clockTick
				if i != 3 && i != 4 { // idle, iowait
					s.machineBusy += v / clockTick
				}
			}
		}
	}
	return s
}

// postgresCPU sums utime+stime of PostgreSQL's processes on this machine:
// the server's own (WAL writer, checkpointer, ...) and the backends connected
// to database pgDB (every backend when pgDB is empty), so that other
// databases' clients on a shared server are left out. Backends that exit
// between two readings take their time with them, which is why the load
// keeps its connections open.
func postgresCPU(pgDB string) (float64, int) {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	total, n := 0.0, 0
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		if pgDB != "" {
			title, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
			// A backend's title is "postgres: 15/main: USER DB HOST(PORT) STATE".
			if bytes.IndexByte(title, '(') >= 0 && !bytes.Contains(title, []byte(" "+pgDB+" ")) {
				continue
			}
		}
		fields := strings.Fields(string(b[end+1:]))
		if len(fields) < 13 {
			continue
		}
		// After the command: state is field 3 of stat, utime 14, stime 15.
		utime, _ := strconv.ParseFloat(fields[11], 64)
		stime, _ := strconv.ParseFloat(fields[12], 64)
		total += (utime + stime) / clockTick
		n++
	}
	return total, n
}

func (now cpuStat) since(before cpuStat) cpuUsage {
	wall := now.at.Sub(before.at).Seconds()
	if wall <= 0 || now.machineTotal <= before.machineTotal {
		return cpuUsage{}
	}
	return cpuUsage{
		valid:        true,
		cpus:         (now.machineTotal - before.machineTotal) / wall,
		machineBusy:  (now.machineBusy - before.machineBusy) / wall,
		self:         (now.self - before.self) / wall,
		postgres:     max(now.postgres-before.postgres, 0) / wall,
		postgresSeen: now.postgresProcs > 0 && now.pgDB != noPostgres,
	}
}
