package models

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite/lib"
)

// connectionFailure reports whether err says the database could not be
// reached or did not answer in time, rather than that it refused what was
// asked of it. Only such errors become ErrUnavailable: asking again later
// may succeed, whereas a query that fails on a reachable database (a
// missing table, a bad statement, a broken row) fails again on every retry.
//
// Counted as unavailable:
//   - the store is closed, or a connection is bad or gone: driver.ErrBadConn,
//     pgconn.ErrConnClosed, "sql: database is closed", an unexpected EOF
//     (the server went away mid-query);
//   - connecting failed: *pgconn.ConnectError (refused, timed out, too many
//     connections, the server starting up or shutting down), any net.Error;
//   - the server ended the session: SQLSTATE class 08 (connection
//     exception) and 57P01-57P03 (admin or crash shutdown, cannot connect
//     now);
//   - a deadline passed while waiting for a connection or for the answer:
//     the database did not answer in time. (A cancelled request is not an
//     outage: the caller has gone.)
//   - SQLite busy after the busy timeout (another process, such as
//     "payoutd reconcile --once", holding the write lock) and SQLite unable
//     to open its file.
func connectionFailure(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	// database/sql does not export the error it returns once closed.
	if strings.Contains(err.Error(), "sql: database is closed") {
		return true
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return true
		}
		return false
	}
	if se, ok := errors.AsType[*gosqlite.Error](err); ok {
		switch se.Code() & 0xff { // the primary result code, without the extended bits
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}
