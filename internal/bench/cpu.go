package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is USER_HZ, the unit of CPU times in /proc (100 on every Linux
// this runs on).
const clockTick = 10 * time.Millisecond

// CPUTimes is a reading of the CPU time spent so far: by the whole machine,
// which other tenants may share, by this process, and by PostgreSQL.
// Readings mean something only in pairs: see Since.
type CPUTimes struct {
	at            time.Time
	machineOK     bool // /proc/stat was read
	machineBusy   time.Duration
	machineTotal  time.Duration
	self          time.Duration
	postgres      time.Duration
	postgresProcs int
}

// ReadMachineCPU reads the whole machine's CPU time only, which is cheap.
func ReadMachineCPU() CPUTimes {
	c := CPUTimes{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return c
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return c
	}
	// user nice system idle iowait irq softirq steal; guest and guest_nice
	// that follow are already counted in user and nice.
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
	c.machineOK = true
	return c
}

// ReadCPU reads the machine's CPU time, this process's, and that of
// PostgreSQL's processes on this machine: the server's own (WAL writer,
// checkpointer, ...) and the backends connected to database pgDB, or every
// backend when pgDB is empty. Naming the database leaves out other
// databases' clients on a shared server.
func ReadCPU(pgDB string) CPUTimes {
	c := ReadMachineCPU()
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	c.postgres, c.postgresProcs = postgresCPU(pgDB)
	return c
}

// postgresCPU sums utime+stime of the PostgreSQL processes ReadCPU counts,
// and says how many there were. A backend that exits between two readings
// takes its time with it, which is why the commands keep their
// connections open while they measure.
func postgresCPU(pgDB string) (time.Duration, int) {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	n := 0
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
			// A backend's title is "postgres: 15/main: USER DB HOST(PORT) STATE";
			// the server's own processes have no client address.
			title, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
			if bytes.IndexByte(title, '(') >= 0 && !bytes.Contains(title, []byte(" "+pgDB+" ")) {
				continue
			}
		}
		fields := strings.Fields(string(b[end+1:]))
		if len(fields) < 13 {
			continue
		}
		// After the command: state is field 3 of stat, utime 14, stime 15.
		utime, _ := strconv.ParseInt(fields[11], 10, 64)
		stime, _ := strconv.ParseInt(fields[12], 10, 64)
		total += time.Duration(utime+stime) * clockTick
		n++
	}
	return total, n
}

// CPUUsage is the CPU spent between two readings, in cores (CPU seconds per
// second).
type CPUUsage struct {
	OK            bool    // false when the machine's CPU time could not be read
	CPUs          float64 // CPUs the machine accounted for
	Busy          float64 // the whole machine
	Self          float64 // this process
	Postgres      float64 // the PostgreSQL processes the readings counted
	PostgresProcs int     // how many the later reading counted
}

// Other is what neither this process nor PostgreSQL used: other tenants of
// a shared machine, and kernel time nobody is billed for.
func (u CPUUsage) Other() float64 { return max(u.Busy-u.Self-u.Postgres, 0) }

// Since is the usage from the earlier reading b to c. PostgreSQL's share
// is never below zero, though backends that exit in between make its sum
// shrink.
func (c CPUTimes) Since(b CPUTimes) CPUUsage {
	wall := c.at.Sub(b.at).Seconds()
	if !c.machineOK || !b.machineOK || wall <= 0 || c.machineTotal <= b.machineTotal {
		return CPUUsage{}
	}
	return CPUUsage{
		OK:            true,
		CPUs:          (c.machineTotal - b.machineTotal).Seconds() / wall,
		Busy:          (c.machineBusy - b.machineBusy).Seconds() / wall,
		Self:          (c.self - b.self).Seconds() / wall,
		Postgres:      max(c.postgres-b.postgres, 0).Seconds() / wall,
		PostgresProcs: c.postgresProcs,
	}
}
