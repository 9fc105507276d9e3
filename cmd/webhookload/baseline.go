package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/payoutd/payoutd/internal/benchdb"
)

// benchInsertPostgres is the baseline's one durable write: a row keyed
// like an inbox event, with a webhook's body.
const benchInsertPostgres = "INSERT INTO bench(key, body) VALUES ($1, $2) ON CONFLICT DO NOTHING"

// runBaseline measures single-row autocommit inserts: what PostgreSQL alone
// does for one durable write per request, for the same time and
// concurrency as the burst, each writer on its own connection (pgx caches
// the prepared statement, so this is the cheapest client path). PostgreSQL
// already flushes concurrent commits together; payoutd's group commit is
// to beat it.
func runBaseline(ctx context.Context, o options, events *eventFactory) (res *result, err error) {
	db, err := benchdb.Create(ctx, o.databaseURL, "webhookload_baseline")
	if err != nil {
		return nil, err
	}
	defer db.DropJoin(&err)

	conns := make([]*pgx.Conn, o.concurrency)
	defer func() {
		for _, c := range conns {
			if c != nil {
				_ = c.Close(context.WithoutCancel(ctx))
			}
		}
	}()
	for i := range conns {
		if conns[i], err = pgx.Connect(ctx, db.URL); err != nil {
			return nil, fmt.Errorf("connect to baseline database: %w", err)
		}
	}
	if _, err := conns[0].Exec(ctx, "CREATE TABLE bench (key TEXT PRIMARY KEY, body BYTEA NOT NULL)"); err != nil {
		return nil, fmt.Errorf("create bench table: %w", err)
	}

	res = drive(ctx, "baseline", db.Name, o.concurrency, o.warmup, o.burst, hooks{}, func(ctx context.Context, w int) outcome {
		n := events.next()
		tag, err := conns[w].Exec(ctx, benchInsertPostgres, dedupKey(events.run, n), events.withdrawPending(n))
		if err != nil {
			return outcome{kind: pgErrorKind(err)}
		}
		return insertOutcome(tag.RowsAffected())
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var rows int64
	if err := conns[0].QueryRow(ctx, "SELECT count(*) FROM bench").Scan(&rows); err != nil {
		return nil, fmt.Errorf("count bench rows: %w", err)
	}
	checkBenchRows(res, rows)
	return res, nil
}

// insertOutcome is a committed insert that affected n rows: every key is
// distinct, so anything but one row is a duplicate the baseline did not
// expect.
func insertOutcome(n int64) outcome {
	if n != 1 {
		return outcome{ok: true, kind: "duplicate"}
	}
	return outcome{ok: true}
}

// checkBenchRows notes a baseline that counted more successes than its
// table holds rows.
func checkBenchRows(res *result, rows int64) {
	if rows < int64(res.ok) {
		res.notes[fmt.Sprintf("bench table holds %d rows, fewer than the %d successes counted", rows, res.ok)]++
	}
}

// pgErrorKind names a database error by its SQLSTATE.
func pgErrorKind(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return "sqlstate " + pgErr.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "connection error"
}
