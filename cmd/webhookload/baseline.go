package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/payoutd/payoutd/internal/benchdb"
	"github.com/payoutd/payoutd/models"
)

// The baseline's one durable write, in each database's placeholders: a row
// keyed like an inbox event, with a webhook's body.
const (
	benchInsertPostgres = "INSERT INTO bench(key, body) VALUES ($1, $2) ON CONFLICT DO NOTHING"
	benchInsertSQLite   = "INSERT INTO bench(key, body) VALUES (?, ?) ON CONFLICT DO NOTHING"
)

// runBaseline measures single-row autocommit inserts: what the database
// alone does for one durable write per request, for the same time and
// concurrency as the burst. payoutd's group commit is to beat it.
func runBaseline(ctx context.Context, o options, events *eventFactory) (*result, error) {
	if o.sqlite {
		return runSQLiteBaseline(ctx, o, events)
	}
	return runPostgresBaseline(ctx, o, events)
}

// runPostgresBaseline gives each writer its own connection (pgx caches the
// prepared statement, so this is the cheapest client path). PostgreSQL
// already flushes concurrent commits together.
func runPostgresBaseline(ctx context.Context, o options, events *eventFactory) (res *result, err error) {
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

// runSQLiteBaseline writes into a fresh file opened by models.Open, so with
// payoutd's settings (WAL, synchronous=FULL, busy_timeout) and its single
// connection: SQLite has one writer, and the writers queue for it in
// database/sql rather than in SQLite's busy handler.
func runSQLiteBaseline(ctx context.Context, o options, events *eventFactory) (res *result, err error) {
	dir, err := os.MkdirTemp("", "webhookload-baseline-")
	if err != nil {
		return nil, fmt.Errorf("create sqlite directory: %w", err)
	}
	defer os.RemoveAll(dir)
	store, err := models.Open(ctx, models.Options{URL: "sqlite:" + filepath.Join(dir, "baseline.db")})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	db, err := store.DB().DB()
	if err != nil {
		return nil, fmt.Errorf("open baseline database: %w", err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE bench (key TEXT PRIMARY KEY, body BLOB NOT NULL)"); err != nil {
		return nil, fmt.Errorf("create bench table: %w", err)
	}
	stmt, err := db.PrepareContext(ctx, benchInsertSQLite)
	if err != nil {
		return nil, fmt.Errorf("prepare bench insert: %w", err)
	}
	defer stmt.Close()

	res = drive(ctx, "baseline", noPostgres, o.concurrency, o.warmup, o.burst, hooks{}, func(ctx context.Context, _ int) outcome {
		n := events.next()
		r, err := stmt.ExecContext(ctx, dedupKey(events.run, n), events.withdrawPending(n))
		if err != nil {
			return outcome{kind: sqliteErrorKind(err)}
		}
		affected, err := r.RowsAffected()
		if err != nil {
			return outcome{kind: sqliteErrorKind(err)}
		}
		return insertOutcome(affected)
	})
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var rows int64
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM bench").Scan(&rows); err != nil {
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

// sqliteErrorKind names an SQLite error by its message, which carries no
// values of ours.
func sqliteErrorKind(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "sqlite: " + err.Error()
}
