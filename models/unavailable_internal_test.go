package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func TestConnectionFailure(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for name, tc := range map[string]struct {
		err  error
		want bool
	}{
		"bad connection":           {fmt.Errorf("list: %w", driver.ErrBadConn), true},
		"pgx connection closed":    {fmt.Errorf("list: %w", pgconn.ErrConnClosed), true},
		"server went away":         {io.ErrUnexpectedEOF, true},
		"database closed":          {errors.New("sql: database is closed"), true},
		"connection refused":       {fmt.Errorf("dial: %w", refused), true},
		"deadline":                 {fmt.Errorf("list: %w", context.DeadlineExceeded), true},
		"admin shutdown":           {&pgconn.PgError{Code: "57P01"}, true},
		"cannot connect now":       {&pgconn.PgError{Code: "57P03"}, true},
		"connection exception":     {&pgconn.PgError{Code: "08006"}, true},
		"undefined table":          {&pgconn.PgError{Code: "42P01"}, false},
		"serialization failure":    {&pgconn.PgError{Code: "40001"}, false},
		"request cancelled":        {fmt.Errorf("list: %w", context.Canceled), false},
		"gorm invalid data":        {gorm.ErrInvalidData, false},
		"something else":           {errors.New("scan details: unexpected end of JSON input"), false},
		"not found is not outage":  {gorm.ErrRecordNotFound, false},
		"wrapped conflict message": {errors.New("UNIQUE constraint failed: payouts.id"), false},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, connectionFailure(tc.err))
			require.Equal(t, tc.want, errors.Is(translate(tc.err), ErrUnavailable))
		})
	}
}

// SQLite answers "database is locked" once another process has held the
// write lock past the busy timeout: a wait, not a broken query.
func TestSQLiteBusyIsUnavailable(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "busy.db")
	holder, err := Open(ctx, Options{URL: "sqlite:" + path})
	require.NoError(t, err)
	t.Cleanup(func() { _ = holder.Close() })

	// A second process with no patience, so that the test need not wait
	// out the store's ten-second busy timeout.
	db, err := gorm.Open(sqlite.Open("file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate"),
		&gorm.Config{Logger: logger.Discard, TranslateError: true})
	require.NoError(t, err)
	other := &Store{db: db, dialect: DialectSQLite, nowFunc: time.Now}
	t.Cleanup(func() { _ = other.Close() })

	write := func(s *Store) error {
		return translate(s.db.WithContext(ctx).Exec("CREATE TABLE IF NOT EXISTS busy (n INTEGER)").Error)
	}
	err = holder.Tx(ctx, func(tx *Store) error {
		require.NoError(t, write(tx)) // holds the write lock until commit
		err := write(other)
		require.ErrorIs(t, err, ErrUnavailable, "a write while locked: %v", err)
		err = other.Tx(ctx, write)
		require.ErrorIs(t, err, ErrUnavailable, "a transaction while locked: %v", err)
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, other.Tx(ctx, write), "free again once the holder commits")
}
