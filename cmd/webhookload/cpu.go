package main

import (
	"context"
	"time"

	"github.com/payoutd/payoutd/internal/bench"
)

// cpuUsage is the CPU a phase used, and whether PostgreSQL worked for it at
// all, so that its column can say n/a.
type cpuUsage struct {
	bench.CPUUsage
	postgresSeen bool
}

// cpuSince is the CPU used since before, a bench.ReadCPU(pgDB).
func cpuSince(before bench.CPUTimes, pgDB string) cpuUsage {
	u := bench.ReadCPU(pgDB).Since(before)
	return cpuUsage{CPUUsage: u, postgresSeen: u.PostgresProcs > 0 && pgDB != noPostgres}
}

// noPostgres names no database: the load does not use PostgreSQL (the
// server's own processes still count).
const noPostgres = "-"

// waitQuiet waits up to limit for a second in which the machine is nearly
// idle (other tenants share it), and returns the last load it saw.
func waitQuiet(ctx context.Context, limit time.Duration, progress func(string, ...any)) float64 {
	return bench.WaitQuiet(ctx, limit, func(load float64, _ time.Duration) {
		progress("machine busy (%.2f cores before the phase starts); waiting for it to quieten", load)
	})
}
