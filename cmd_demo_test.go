package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/demo"
)

// TestDemoShowsEveryFindingKind runs `payoutd demo` as a newcomer would: no
// database server, no configuration. Its summary must show every finding
// kind the scripted traffic produces, and it must stop cleanly.
func TestDemoShowsEveryFindingKind(t *testing.T) {
	var out syncBuffer
	running := runInBackground(t, []string{"payoutd", "demo", "--config", "config.yaml"},
		map[string]string{"PAYOUTD_LISTEN": "127.0.0.1:0"}, &out, &bytes.Buffer{})
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(out.String(), "Serving until Ctrl-C.") {
		select {
		case err := <-running.done:
			t.Fatalf("demo stopped early: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("demo printed no summary in 2 minutes:\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	summary := out.String()
	for _, kind := range demo.Kinds() {
		require.Contains(t, summary, "  "+kind+" (", "finding kind %s in the summary", kind)
	}
	require.NotContains(t, summary, "expected but not raised")
	// The three lost webhooks are the same ones on any machine, and the
	// run heals each of them.
	require.Regexp(t, `\n  payouts_healed +3\n`, summary)
	require.Contains(t, summary, "409 verification required")
	require.Contains(t, summary, "Dashboard: http://127.0.0.1:")
	running.stop(t, 30*time.Second)
}
