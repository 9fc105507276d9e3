package benchdb

import (
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
)

func TestAdminURL(t *testing.T) {
	t.Parallel()
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", AdminURL(getenv))
	env["PAYOUTD_TEST_DATABASE_URL"] = "postgres://bench@db:5432/postgres"
	require.Equal(t, "postgres://bench@db:5432/postgres", AdminURL(getenv))
}

func TestDropJoin(t *testing.T) {
	t.Parallel()
	admin := dbtest.RequirePostgres(t)
	ctx := t.Context()
	exists := func(name string) bool {
		t.Helper()
		conn, err := pgx.Connect(ctx, admin)
		require.NoError(t, err)
		defer conn.Close(ctx)
		var n int
		require.NoError(t, conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_database WHERE datname = $1", name).Scan(&n))
		return n == 1
	}

	db, err := Create(ctx, admin, "benchdb_test")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(db.Name, "benchdb_test_"), db.Name)
	require.True(t, exists(db.Name))

	// The function's own failure stays, and the database goes anyway.
	runErr := errors.New("run failed")
	err = runErr
	db.DropJoin(&err)
	require.Equal(t, runErr, err)
	require.False(t, exists(db.Name))

	// A failure to drop is added to the result.
	gone := &DB{admin: "postgres://nobody@127.0.0.1:1/postgres?connect_timeout=1", Name: db.Name}
	err = nil
	gone.DropJoin(&err)
	require.ErrorContains(t, err, "drop database "+db.Name)
}
