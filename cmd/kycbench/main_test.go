package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/bench"
	"github.com/payoutd/payoutd/kyc"
)

// TestMain lets the test binary stand in for the command when it runs
// itself as a child (-sizes, -emulator process).
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		bench.Main("kycbench", run)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tables reads the figures tables in out: each row as column name to
// value. Column names are separated by two spaces or more; values hold no
// space.
func tables(t *testing.T, out string) []map[string]string {
	t.Helper()
	var rows []map[string]string
	var cols []string
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "n  runs  "):
			cols = regexp.MustCompile(`\s{2,}`).Split(line, -1)
		case line == "":
			cols = nil
		case cols != nil:
			f := strings.Fields(line)
			require.Len(t, f, len(cols), "row %q under %q", line, cols)
			row := map[string]string{}
			for i, c := range cols {
				row[c] = f[i]
			}
			rows = append(rows, row)
		}
	}
	return rows
}

func num(t *testing.T, row map[string]string, col string) float64 {
	t.Helper()
	v, ok := row[col]
	require.True(t, ok, "no column %q in %v", col, row)
	f, err := strconv.ParseFloat(v, 64)
	require.NoError(t, err, "column %q", col)
	return f
}

// checkRow requires a row's figures to parse, the limits to have held and
// the counts to be what the data holds.
func checkRow(t *testing.T, row map[string]string, n, approved, unknown int) {
	t.Helper()
	require.EqualValues(t, n, num(t, row, "n"))
	require.Positive(t, num(t, row, "sweep s"))
	require.EqualValues(t, 1+unknown, num(t, row, "calls"), "one list call and a lookup per unknown withdrawer")
	require.Positive(t, num(t, row, "calls/s"))
	require.EqualValues(t, approved, num(t, row, "changed"))
	require.Zero(t, num(t, row, "429s"))
	require.LessOrEqual(t, num(t, row, "max KYC/min (<=3)"), 3.0)
	require.LessOrEqual(t, num(t, row, "max 404/10s (<=10)"), 10.0)
	require.Positive(t, num(t, row, "RSS base MB"))
	require.GreaterOrEqual(t, num(t, row, "RSS peak MB"), num(t, row, "RSS base MB"))
	for _, col := range []string{"sweep adds MB", "heap +MB", "live heap +MB"} {
		num(t, row, col)
	}
}

func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), append([]string{"kycbench"}, args...), os.Getenv, &stdout, &stderr)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	return stdout.String(), err
}

func TestOneSweep(t *testing.T) {
	for _, emu := range []string{emulatorProcess, emulatorInProcess} {
		t.Run(emu, func(t *testing.T) {
			out, err := runCommand(t, "-n", "200", "-unknown", "4", "-emulator", emu, "-wait-quiet", "0")
			require.NoError(t, err)
			rows := tables(t, out)
			require.Len(t, rows, 1)
			checkRow(t, rows[0], 200, 20, 4)
			require.Contains(t, out, "limits held")
			// Four lookups at 3 a minute: the fourth waited one window (a
			// minute and the follower's transit margin) of Coinflow time, on
			// the emulator's clock, not the wall's.
			require.Contains(t, out, fmt.Sprintf("the follower waited %s of Coinflow time", time.Minute+kyc.WindowMargin))
		})
	}
}

func TestSizesInFreshProcesses(t *testing.T) {
	out, err := runCommand(t, "-sizes", "300,100", "-runs", "2", "-unknown", "3", "-approve", "0.5", "-wait-quiet", "0")
	require.NoError(t, err)
	rows := tables(t, out)
	require.Len(t, rows, 2)
	checkRow(t, rows[0], 100, 50, 3)
	checkRow(t, rows[1], 300, 150, 3)
	require.Equal(t, "2", rows[0]["runs"])
	require.Regexp(t, `ratio n=300 / n=100 \(3x the withdrawers\): sweep adds \S+ MB vs \S+ MB = `, out)
	require.Contains(t, out, "limits held in every run")
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "0"}, {"-approve", "1.5"}, {"-emulator", "elsewhere"}, {"-sizes", "10,x"},
		{"-database-url", "mysql://db"}, {"-runs", "0"},
	} {
		_, err := runCommand(t, args...)
		require.Error(t, err, "%v", args)
		require.Equal(t, 2, bench.ExitCode(err), "%v: %v", args, err)
	}
}
