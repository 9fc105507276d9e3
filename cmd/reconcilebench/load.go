package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/payoutd/payoutd/models"
)

var payoutColumns = []string{
	"id", "idempotency_key", "user_id", "amount_cents", "amount_currency", "requested_speed", "effective_speed",
	"status", "status_at", "coinflow_transaction", "coinflow_transfer_id", "account_token",
	"user_fees_cents", "user_fees_currency", "merchant_fees_cents", "merchant_fees_currency",
	"expected_delivery_at", "wallet_debit_cents", "source", "created_at", "updated_at",
}

var historyColumns = []string{
	"payout_id", "from_status", "to_status", "applied", "reason", "source", "evidence_at", "created_at",
}

// loadStats is what loading took.
type loadStats struct {
	payouts, history time.Duration
	vacuum           time.Duration
}

// load fills the migrated database at dbURL with the dataset's local
// payouts, as payoutd would hold them after earlier runs: each payout in
// full sync with Coinflow (transfer id, speed, fees, expected delivery),
// with (when history is set) the history row of its completion, so that
// payout_history has the size it would have. It uses COPY over workers
// connections, then VACUUM ANALYZE, as autovacuum would have left tables
// this size.
func load(ctx context.Context, dbURL string, d dataset, workers int, history bool, progress func(string, ...any)) (loadStats, error) {
	var st loadStats
	start := time.Now()
	if err := copyChunks(ctx, dbURL, d, workers, "payouts", payoutColumns, payoutRow); err != nil {
		return st, err
	}
	st.payouts = time.Since(start)
	progress("loaded %d payouts in %s", d.n, st.payouts.Round(time.Millisecond))
	if history {
		start = time.Now()
		if err := copyChunks(ctx, dbURL, d, workers, "payout_history", historyColumns, historyRow); err != nil {
			return st, err
		}
		st.history = time.Since(start)
		progress("loaded %d history rows in %s", d.n, st.history.Round(time.Millisecond))
	}
	start = time.Now()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return st, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) payouts, payout_history"); err != nil {
		return st, fmt.Errorf("vacuum: %w", err)
	}
	st.vacuum = time.Since(start)
	progress("vacuum analyze in %s", st.vacuum.Round(time.Millisecond))
	return st, nil
}

// copyChunks copies rows [0, d.n) of table in workers contiguous chunks,
// each over its own connection.
func copyChunks(ctx context.Context, dbURL string, d dataset, workers int, table string, cols []string, row func(p payout) []any) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	per := (d.n + workers - 1) / workers
	for lo := 0; lo < d.n; lo += per {
		hi := min(lo+per, d.n)
		wg.Go(func() {
			if err := copyRange(ctx, dbURL, d, lo, hi, table, cols, row); err != nil {
				cancel()
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func copyRange(ctx context.Context, dbURL string, d dataset, lo, hi int, table string, cols []string, row func(p payout) []any) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	i := lo
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= hi {
			return nil, nil
		}
		r := row(d.payout(i))
		i++
		return r, nil
	})
	n, err := conn.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
	if err != nil {
		return fmt.Errorf("copy %s rows %d-%d: %w", table, lo, hi, err)
	}
	if n != int64(hi-lo) {
		return fmt.Errorf("copy %s rows %d-%d: %d copied", table, lo, hi, n)
	}
	return nil
}

func payoutRow(p payout) []any {
	return []any{
		p.id, p.idempotencyKey, p.userID, p.localCents, benchCurrency, benchSpeed, benchSpeed,
		p.localStatus, p.completedAt, p.transaction, p.transferID, benchAccount,
		int64(0), benchCurrency, int64(benchFeeCents), benchCurrency,
		// An earlier run recorded the wallet debit Coinflow's record
		// implies: its amount plus the merchant's fees, all in USD.
		p.expectedAt, p.coinflowCents + benchFeeCents, string(models.OriginAPI), p.createdAt, p.completedAt,
	}
}

func historyRow(p payout) []any {
	return []any{
		p.id, string(models.StatusPending), p.localStatus, true, models.ReasonAdvanced, string(models.SourceWebhook),
		p.completedAt, p.completedAt,
	}
}

// seedPreviousSnapshot records the wallet balance a previous run saw, so
// that this run compares balances (the drift check) as every run but the
// first does.
func seedPreviousSnapshot(ctx context.Context, dbURL string, balance int64, at time.Time) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "INSERT INTO wallet_snapshots (run_id, taken_at, balance_cents) VALUES ('reconcilebench-previous', $1, $2)",
		at.UTC(), balance)
	if err != nil {
		return fmt.Errorf("seed wallet snapshot: %w", err)
	}
	return nil
}
