package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// DefaultSQLitePath is where the embedded database lives when no URL is set.
const DefaultSQLitePath = "data/payoutd.db"

// Dialects.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Sentinel errors the store translates driver errors into.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrOverflow is a sum of cents that does not fit in an int64. No real
	// total comes near it, but a stored amount can (the column holds what a
	// signed webhook said), and a total that wrapped around would be a
	// wrong figure, so the sum is refused. Errors wrapping it read "sum of
	// payout amounts overflows int64".
	ErrOverflow = errors.New("overflows int64")
	// ErrUnavailable wraps a connection failure: the database cannot be
	// reached or did not answer in time, so the same request may succeed
	// later (see connectionFailure for what counts). Any other store error
	// is a failure that retrying will not fix.
	ErrUnavailable = errors.New("database unavailable")
)

// Options configure Open.
type Options struct {
	// URL selects the database: empty for the embedded SQLite file at
	// DefaultSQLitePath, "sqlite:PATH" for another SQLite file, or a
	// postgres:// (postgresql://) URL.
	URL string
	// NowFunc is the clock; default time.Now. Every time the store writes is
	// taken from it, in UTC.
	NowFunc func() time.Time
	// MaxOpenConns caps the PostgreSQL pool (SQLite always uses one
	// connection: one writer, and no busy errors between our own goroutines).
	MaxOpenConns int
}

// Store is every read and write payoutd makes. A Store made by Tx runs its
// methods inside that transaction.
type Store struct {
	db      *gorm.DB
	dialect string
	nowFunc func() time.Time
	inTx    bool // made by Tx: methods run in its transaction
}

// Open connects to the database named by opts.URL. It does not migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	nowFunc := opts.NowFunc
	if nowFunc == nil {
		nowFunc = time.Now
	}
	s := &Store{nowFunc: nowFunc}
	var dial gorm.Dialector
	switch u := opts.URL; {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		s.dialect = DialectPostgres
		cfg, err := pgx.ParseConfig(u)
		if err != nil {
			return nil, fmt.Errorf("database url: %w", err)
		}
		if _, set := cfg.RuntimeParams["plan_cache_mode"]; !set {
			// Statements stay prepared, but each execution is planned for
			// its own values and the table as it is now. A generic plan
			// cached on a pooled connection while a table was small (a new
			// deployment, a load test) would otherwise keep scanning it
			// whole after it grew: the applier's batch lookup took 100 ms
			// on 30,000 payouts that way instead of under 1 ms.
			cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
		}
		dial = postgres.New(postgres.Config{Conn: stdlib.OpenDB(*cfg)})
	case u == "", strings.HasPrefix(u, "sqlite:"):
		s.dialect = DialectSQLite
		path := strings.TrimPrefix(u, "sqlite:")
		if path == "" {
			path = DefaultSQLitePath
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
		dial = sqlite.Open(sqliteDSN(path))
	default:
		return nil, fmt.Errorf("database url: want empty, sqlite:PATH or postgres://..., got scheme %q", scheme(u))
	}
	db, err := gorm.Open(dial, &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return s.Now() },
		TranslateError:         true,
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", s.dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", s.dialect, err)
	}
	if s.dialect == DialectSQLite {
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(max(opts.MaxOpenConns, 4))
		sqlDB.SetMaxIdleConns(max(opts.MaxOpenConns, 4))
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	s.db = db
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN turns on WAL and a full fsync on every commit: a webhook is
// answered 200 only after its commit, so the commit must survive power loss.
func sqliteDSN(path string) string {
	return "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_time_format=sqlite&_txlock=immediate"
}

func scheme(u string) string {
	if i := strings.Index(u, ":"); i > 0 {
		return u[:i]
	}
	return u
}

// Dialect is DialectPostgres or DialectSQLite.
func (s *Store) Dialect() string { return s.dialect }

// MaxOpenConns is the connection pool's size: 1 on SQLite.
func (s *Store) MaxOpenConns() int {
	sqlDB, err := s.db.DB()
	if err != nil {
		return 1
	}
	return max(sqlDB.Stats().MaxOpenConnections, 1)
}

// Now is the store's clock, in UTC at microsecond precision (PostgreSQL's).
func (s *Store) Now() time.Time { return s.nowFunc().UTC().Truncate(time.Microsecond) }

// DB exposes the GORM handle for tests and benchmarks that need raw SQL.
func (s *Store) DB() *gorm.DB { return s.db }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Tx runs fn in one transaction: committed when fn returns nil, rolled back
// otherwise. Called on a Store already in a transaction, it joins that
// transaction instead of nesting a savepoint (use Savepoint for that).
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.transaction(ctx, fn)
}

// transaction runs fn in a new transaction. An error of BEGIN or COMMIT is
// translated here; fn's own error is returned as it is, already translated
// by the store methods fn called.
func (s *Store) transaction(ctx context.Context, fn func(tx *Store) error, opts ...*sql.TxOptions) error {
	var fnErr error
	err := s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		fnErr = fn(&Store{db: gtx, dialect: s.dialect, nowFunc: s.nowFunc, inTx: true})
		return fnErr
	}, opts...)
	if err != nil && fnErr == nil {
		return translate(err)
	}
	return err
}

// Savepoint runs fn inside a savepoint of the current transaction: when fn
// fails, its writes are undone and the transaction stays usable.
func (s *Store) Savepoint(ctx context.Context, name string, fn func() error) error {
	if err := s.db.WithContext(ctx).SavePoint(name).Error; err != nil {
		return fmt.Errorf("savepoint: %w", translate(err))
	}
	if err := fn(); err != nil {
		if rbErr := s.db.WithContext(ctx).RollbackTo(name).Error; rbErr != nil {
			return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rbErr))
		}
		return err
	}
	return nil
}

// forUpdate locks the selected rows on PostgreSQL. SQLite has one writer and
// one connection, so the transaction already excludes everyone else.
func (s *Store) forUpdate(q *gorm.DB) *gorm.DB {
	if s.dialect == DialectPostgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// multiInsert builds one INSERT of n rows: head is the statement up to
// VALUES, row one row's placeholders, tail what follows the rows, and
// args(i) the arguments of row i.
func multiInsert(head, row, tail string, n int, args func(i int) []any) (string, []any) {
	var sb strings.Builder
	sb.WriteString(head)
	sb.WriteString(" VALUES ")
	var all []any
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
		all = append(all, args(i)...)
	}
	sb.WriteString(" ")
	sb.WriteString(tail)
	return sb.String(), all
}

// first loads the one row of T that q finds; what names it in errors
// (ErrNotFound when there is none).
func first[T any](q *gorm.DB, what string) (*T, error) {
	var row T
	if err := q.First(&row).Error; err != nil {
		return nil, fmt.Errorf("get %s: %w", what, translate(err))
	}
	return &row, nil
}

// translate maps driver and GORM errors to the sentinels above, keeping the
// cause wrapped.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case strings.Contains(err.Error(), "UNIQUE constraint failed"):
		// The SQLite driver does not always map its constraint errors.
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case strings.Contains(err.Error(), "integer overflow"):
		// SQLite's sum() of integers raises this (its only code is the
		// generic SQLITE_ERROR) instead of returning a wrong total.
		return ErrOverflow
	case connectionFailure(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == pgNumericOutOfRange {
		return ErrOverflow
	}
	return err
}

// Overtaken reports whether err says another writer got there first: a
// conditional write that found the row changed (ErrConflict, which also
// covers a unique key taken meanwhile), or PostgreSQL aborting the
// transaction for a deadlock or a serialization failure. Deciding again
// from a fresh read is the cure.
func Overtaken(err error) bool {
	if errors.Is(err, ErrConflict) {
		return true
	}
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pgErr.Code == pgDeadlockDetected || pgErr.Code == pgSerializationFailure)
}

const (
	pgDeadlockDetected     = "40P01"
	pgSerializationFailure = "40001"
)

// pgNumericOutOfRange is PostgreSQL's numeric_value_out_of_range, as in
// "bigint out of range".
const pgNumericOutOfRange = "22003"

// dbTime scans a time from either dialect: SQLite hands back text for
// expressions (MIN, MAX) whose column type it cannot see.
type dbTime struct{ time.Time }

// sqliteTimeLayout is how the SQLite driver writes times (_time_format=sqlite).
const sqliteTimeLayout = "2006-01-02 15:04:05.999999999-07:00"

func (t *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.Time = time.Time{}
	case time.Time:
		t.Time = v.UTC()
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	default:
		return fmt.Errorf("scan time from %T", src)
	}
	return nil
}

// ptr is the time as a nullable column's value: nil for NULL.
func (t dbTime) ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}

func (t *dbTime) parse(s string) error {
	for _, layout := range []string{sqliteTimeLayout, time.RFC3339Nano, "2006-01-02 15:04:05.999999999 -0700 MST"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("scan time from %q", s)
}
