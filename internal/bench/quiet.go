package bench

import (
	"context"
	"time"
)

// quietLoad is the load, in busy cores, under which a measurement starts.
const quietLoad = 0.25

// WaitQuiet waits up to limit for a second in which the machine is nearly
// idle (it may be shared), and returns the load, in busy cores, of the
// last second it watched, or 0 when ctx ends. Each time the machine is too
// busy and there is time left, it calls busy with the load and that time.
func WaitQuiet(ctx context.Context, limit time.Duration, busy func(load float64, left time.Duration)) float64 {
	deadline := time.Now().Add(limit)
	for {
		before := ReadMachineCPU()
		if !SleepUntil(ctx, before.at.Add(time.Second)) {
			return 0
		}
		load := ReadMachineCPU().Since(before).Busy
		if load < quietLoad || !time.Now().Before(deadline) {
			return load
		}
		busy(load, time.Until(deadline))
	}
}

// SleepUntil sleeps until t and reports false if ctx ended first.
func SleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
