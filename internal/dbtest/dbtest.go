// Package dbtest builds real, migrated stores for tests: an SQLite file in
// the test's temporary directory, and a fresh PostgreSQL database per test on
// the server named by PAYOUTD_TEST_DATABASE_URL. Without that variable the
// PostgreSQL half is skipped with a message saying so, except in CI (CI=true
// or PAYOUTD_TEST_REQUIRE_POSTGRES=1), where a missing server fails the test.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for admin statements

	"github.com/payoutd/payoutd/models"
)

// EnvURL names the PostgreSQL server tests create their databases on.
const EnvURL = "PAYOUTD_TEST_DATABASE_URL"

// SkipMessage starts every skip for want of PostgreSQL, so that the test
// summary can list them.
const SkipMessage = "postgres test skipped: PAYOUTD_TEST_DATABASE_URL is not set"

// Options tune the stores made here.
type Options struct {
	NowFunc func() time.Time
}

// Each runs fn as two subtests, "sqlite" and "postgres", each on its own
// fresh migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	t.Helper()
	EachOpts(t, Options{}, fn)
}

// EachOpts is Each with options.
func EachOpts(t *testing.T, opts Options, fn func(t *testing.T, s *models.Store)) {
	t.Helper()
	t.Run(models.DialectSQLite, func(t *testing.T) { fn(t, SQLite(t, opts)) })
	t.Run(models.DialectPostgres, func(t *testing.T) { fn(t, Postgres(t, opts)) })
}

// EachAt is Each on stores whose clock is a Clock standing at start, a new
// one in each subtest, which fn is given to move.
func EachAt(t *testing.T, start time.Time, fn func(t *testing.T, s *models.Store, clock *Clock)) {
	t.Helper()
	t.Run(models.DialectSQLite, func(t *testing.T) {
		clock := NewClock(start)
		fn(t, SQLite(t, Options{NowFunc: clock.Now}), clock)
	})
	t.Run(models.DialectPostgres, func(t *testing.T) {
		clock := NewClock(start)
		fn(t, Postgres(t, Options{NowFunc: clock.Now}), clock)
	})
}

// SQLite returns a migrated store on a new SQLite file in t.TempDir().
func SQLite(t testing.TB, opts Options) *models.Store {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "payoutd.db"), opts)
}

// Postgres returns a migrated store on a new PostgreSQL database, dropped
// when the test ends.
func Postgres(t testing.TB, opts Options) *models.Store {
	t.Helper()
	return open(t, PostgresURL(t), opts)
}

// RequirePostgres skips (or, in CI, fails) a test that needs PostgreSQL when
// no server is configured, and returns the server's URL.
func RequirePostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("CI") == "true" || os.Getenv("PAYOUTD_TEST_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("%s is not set, and CI requires the PostgreSQL tests to run", EnvURL)
		}
		t.Skip(SkipMessage)
	}
	return base
}

// PostgresURL creates a new empty database (not migrated) on the test
// server and returns its URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := RequirePostgres(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	name := "payoutd_test_" + hex.EncodeToString(suffix[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

func open(t testing.TB, dbURL string, opts Options) *models.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := models.Open(ctx, models.Options{URL: dbURL, NowFunc: opts.NowFunc})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", redact(dbURL), err)
	}
	return s
}

// redact drops credentials from a URL before it reaches a log.
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.User == nil {
		return dbURL
	}
	u.User = url.User(u.User.Username())
	return strings.TrimSpace(u.String())
}

// Clock is a settable clock for tests; safe for concurrent use.
type Clock struct {
	ch chan time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{ch: make(chan time.Time, 1)}
	c.ch <- t.UTC()
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	t := <-c.ch
	c.ch <- t
	return t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	<-c.ch
	c.ch <- t.UTC()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	t := <-c.ch
	c.ch <- t.Add(d)
}
