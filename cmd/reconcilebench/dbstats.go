package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// dbStats is what the database says about the payouts table and the WAL,
// read before and after the run to show what the run wrote.
type dbStats struct {
	walLSN      string
	payoutBytes int64 // payouts with its indexes and TOAST
	updates     int64 // rows updated in payouts so far
	hotUpdates  int64 // of which heap-only (no index entries written)
}

// readDBStats reads the statistics over a connection of its own. A backend
// hands its counters to pg_stat_user_tables at most once a second, and when
// it exits: read after the run, once the store is closed, they are whole.
func readDBStats(ctx context.Context, dbURL string) (dbStats, error) {
	var s dbStats
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return s, fmt.Errorf("read database statistics: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text, pg_total_relation_size('payouts'),
  COALESCE((SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'payouts'), 0),
  COALESCE((SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'payouts'), 0)`).
		Scan(&s.walLSN, &s.payoutBytes, &s.updates, &s.hotUpdates)
	if err != nil {
		return s, fmt.Errorf("read database statistics: %w", err)
	}
	return s, nil
}

// walBetween is the WAL written between two readings, in bytes.
func walBetween(ctx context.Context, dbURL string, from, to dbStats) (int64, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return 0, fmt.Errorf("measure wal: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	if err := conn.QueryRow(ctx, "SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint", to.walLSN, from.walLSN).Scan(&n); err != nil {
		return 0, fmt.Errorf("measure wal: %w", err)
	}
	return n, nil
}

// waitBackendsGone waits until no other backend is connected to the
// database, or up to limit.
func waitBackendsGone(ctx context.Context, dbURL string, limit time.Duration) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("wait for backends: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	deadline := time.Now().Add(limit)
	for {
		var n int
		err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&n)
		if err != nil {
			return fmt.Errorf("wait for backends: %w", err)
		}
		if n == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
