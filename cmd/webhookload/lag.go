package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/payoutd/payoutd/models"
)

// eventTimes is when a stored event was received (committed to the inbox)
// and, once the applier has finished it, processed; zero when not yet.
type eventTimes struct {
	received, processed time.Time
}

// lagStats is what the inbox says about the applier over a window.
type lagStats struct {
	accepted  int             // events received inside the window
	applied   int             // events processed inside the window, whenever received
	backlog   int             // events received before the window's end and not processed by then
	unapplied int             // accepted events still not processed when the inbox was read
	lags      []time.Duration // accept→applied lag of the accepted events, sorted
}

// lagOf measures the window [from, to) on the inbox read at readAt. An
// accepted event not yet processed at readAt counts with the lag it has
// so far, readAt − received, so that the events the applier is furthest
// behind on are not the ones the percentiles leave out.
func lagOf(evs []eventTimes, from, to, readAt time.Time) lagStats {
	var st lagStats
	for _, ev := range evs {
		done := !ev.processed.IsZero()
		if done && !ev.processed.Before(from) && ev.processed.Before(to) {
			st.applied++
		}
		if ev.received.Before(to) && (!done || !ev.processed.Before(to)) {
			st.backlog++
		}
		if ev.received.Before(from) || !ev.received.Before(to) {
			continue
		}
		st.accepted++
		end := ev.processed
		if !done {
			st.unapplied++
			end = readAt
		}
		st.lags = append(st.lags, max(end.Sub(ev.received), 0))
	}
	slices.Sort(st.lags)
	return st
}

func (st *lagStats) percentile(p float64) time.Duration { return percentile(st.lags, p) }

// appliedRate is the events processed in the window per second of it.
func (st *lagStats) appliedRate(window time.Duration) float64 {
	return float64(st.applied) / window.Seconds()
}

// readEventTimes reads every stored event's receipt and processing times.
// The phase's database holds that phase's events only.
func readEventTimes(ctx context.Context, store *models.Store) ([]eventTimes, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rows, err := store.DB().WithContext(ctx).Raw("SELECT received_at, processed_at FROM inbox_events").Rows()
	if err != nil {
		return nil, fmt.Errorf("read inbox times: %w", err)
	}
	defer rows.Close()
	var evs []eventTimes
	for rows.Next() {
		var received time.Time
		var processed sql.NullTime
		if err := rows.Scan(&received, &processed); err != nil {
			return nil, fmt.Errorf("read inbox times: %w", err)
		}
		evs = append(evs, eventTimes{received: received, processed: processed.Time})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read inbox times: %w", err)
	}
	return evs, nil
}
