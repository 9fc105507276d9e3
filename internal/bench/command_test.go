package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"none", nil, 0},
		{"usage", Usagef("-n must be at least %d", 1), 2},
		{"wrapped usage", fmt.Errorf("sqlite: %w", Usagef("bad")), 2},
		{"setup", errors.New("connect: refused"), 1},
		{"interrupted", context.Canceled, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, ExitCode(tc.err))
		})
	}
}

func TestParseFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		wantN   int
		wantErr string
	}{
		{"defaults", nil, 7, ""},
		{"set", []string{"-n", "3"}, 3, ""},
		{"unknown flag", []string{"-bogus"}, 0, "flag provided but not defined: -bogus"},
		{"malformed value", []string{"-n", "x"}, 0, `invalid value "x" for flag -n: parse error`},
		{"argument", []string{"-n", "3", "extra"}, 0, `unexpected argument "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fs := NewFlagSet("cmd")
			n := fs.Int("n", 7, "how many")
			err := ParseFlags(fs, tc.args)
			if tc.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, tc.wantN, *n)
				return
			}
			require.EqualError(t, err, tc.wantErr)
			require.Equal(t, 2, ExitCode(err))
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	t.Parallel()
	fs := NewFlagSet("cmd")
	fs.String("database-url", "postgres://bench:secret@db:5432/postgres", "where")
	fs.Int("n", 7, "how many")
	err := ParseFlags(fs, []string{"-h"})
	require.EqualError(t, err, "usage: cmd [flags]\n"+
		"  -database-url string\n    \twhere (default \"postgres://bench:xxxxx@db:5432/postgres\")\n"+
		"  -n int\n    \thow many (default 7)")
	require.Equal(t, 2, ExitCode(err))
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	require.NoError(t, BadFlags(nil))
	err := BadFlags([]string{"-n must be at least 1", "-timeout must be positive"})
	require.EqualError(t, err, "-n must be at least 1; -timeout must be positive")
	require.Equal(t, 2, ExitCode(err))
}
