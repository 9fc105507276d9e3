package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// testifyFailure is what require.Equal prints for a failed comparison,
// after a test has dumped logs above it.
const testifyFailure = "    daemon_test.go:40: payoutd run 1 log (2 lines, last 40):\n" +
	"        {\"msg\":\"job done\"}\n" +
	"        {\"msg\":\"stopped\"}\n" +
	"    scheduler_test.go:120: \n" +
	"        \tError Trace:\t/src/e2e/scheduler_test.go:120\n" +
	"        \tError:      \tNot equal: \n" +
	"        \t            \texpected: 5\n" +
	"        \t            \tactual  : 4\n" +
	"        \tTest:       \tTestTwo/ticks_together\n" +
	"        \tMessages:   \truns logged by the processes against runs recorded\n" +
	"    scheduler_test.go:128: payoutd 1: 3 runs\n"

func events(t *testing.T, evs ...event) string {
	t.Helper()
	var b strings.Builder
	for _, e := range evs {
		line, err := json.Marshal(e)
		require.NoError(t, err)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

func TestSummaryRepeatsAssertionsAtTheEnd(t *testing.T) {
	const pkg = "github.com/payoutd/payoutd/e2e"
	in := events(t,
		event{Action: "output", Package: pkg, Test: "TestTwo/ticks_together", Output: testifyFailure},
		event{Action: "fail", Package: pkg, Test: "TestTwo/ticks_together"},
		event{Action: "output", Package: pkg, Test: "TestOK", Output: "    x_test.go:1: fine\n"},
		event{Action: "pass", Package: pkg, Test: "TestOK"},
		event{Action: "fail", Package: pkg},
	)
	var out strings.Builder
	r, err := summarize(strings.NewReader(in), &out)
	require.NoError(t, err)
	require.Equal(t, 1, r.failed)
	require.Equal(t, 1, r.passed)

	got := out.String()
	why := strings.Index(got, "why e2e TestTwo/ticks_together failed:\n")
	require.Greater(t, why, strings.Index(got, "payoutd run 1 log"), "the recap comes after the dumped logs:\n%s", got)
	recap := got[why:strings.Index(got, "\n1 passed, 1 failed, 0 skipped")]
	require.Contains(t, recap, "expected: 5")
	require.Contains(t, recap, "actual  : 4")
	require.Contains(t, recap, "Messages:   \truns logged by the processes against runs recorded")
	require.NotContains(t, recap, "job done", "logs are not part of the recap")
	require.NotContains(t, recap, "payoutd 1: 3 runs", "t.Logf lines after the block are not part of it")
	require.NotContains(t, got, "why e2e TestOK", "passing tests get no recap")
}

func TestAssertionLinesKeepsPanicsAndBoundsLength(t *testing.T) {
	require.Equal(t, []string{"panic: boom [recovered]"}, assertionLines("    log line\npanic: boom [recovered]\n"))
	require.Empty(t, assertionLines("    a_test.go:3: only logs\n"))

	long := "        \tError Trace:\tx_test.go:1\n" + strings.Repeat("        \t            \tline\n", 100)
	lines := assertionLines(long)
	require.Len(t, lines, maxAssertionLines+1)
	require.Equal(t, "\t(more cut)", lines[maxAssertionLines])
}
