package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

func runReplay(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	argv := append([]string{"payoutd", "replay", "--config", emptyConfig(t)}, args...)
	err := run(t.Context(), argv, getenvFrom(map[string]string{"PAYOUTD_DATABASE_URL": dbURL, "USER": "ops"}), &stdout, &stderr)
	return stdout.String(), err
}

func replayWithdrawBody(eventType, signature string) []byte {
	return fmt.Appendf(nil, `{"eventType":%q,"category":"Withdraw","created":"2025-06-02T14:03:12.006Z",`+
		`"data":{"wallet":"w","blockchain":"solana","signature":%q,"total":{"cents":2500,"currency":"USD"},"currency":"USD",`+
		`"merchantId":"acme-payouts","userId":"u-1"}}`, eventType, signature)
}

// TestReplayCommand: payoutd replay applies a parked event once, prints
// what changed, and replaying again (or replaying applied events) changes
// nothing.
func TestReplayCommand(t *testing.T) {
	t.Parallel()
	eachFileDB(t, time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC), func(t *testing.T, store *models.Store, clock *dbtest.Clock, dbURL string) {
		srv := testserver.Start(t, store, testserver.Options{Clock: clock})
		for _, b := range [][]byte{
			replayWithdrawBody("Withdraw Pending", "sig-1"), // 1 applied
			[]byte(`[1, 2]`), // 2 unprocessable
		} {
			code, resp := srv.PostSigned(t, b)
			require.Equal(t, http.StatusOK, code, resp)
		}
		srv.Drain(t)
		code, resp := srv.PostSigned(t, replayWithdrawBody("Withdraw Success", "sig-1")) // 3, parked by a since-fixed bug
		require.Equal(t, http.StatusOK, code, resp)
		require.NoError(t, store.DB().Exec(`UPDATE inbox_events SET status = 'parked', attempts = 8, last_error = 'bug', processed_at = ? WHERE id = 3`, clock.Now()).Error)

		out, err := runReplay(t, dbURL)
		require.NoError(t, err, out)
		require.Contains(t, out, "event 2  ")
		require.Regexp(t, `event 2 .* unprocessable +-> unchanged`, out)
		require.Regexp(t, `event 3  Withdraw Success +parked +-> applied`, out)
		require.Contains(t, out, "replayed 2 events, applied 1, unchanged 1\n")
		p, err := store.InboxGet(t.Context(), 3)
		require.NoError(t, err)
		require.Equal(t, models.InboxApplied, p.Status)
		var payout models.Payout
		require.NoError(t, store.DB().Where("coinflow_transaction = 'sig-1'").First(&payout).Error)
		require.Equal(t, models.StatusCompleted, payout.Status)
		rs, err := store.EventReplayList(t.Context(), 3)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, "cli:ops", rs[0].ReplayedBy)

		out, err = runReplay(t, dbURL)
		require.NoError(t, err, out)
		require.Contains(t, out, "replayed 1 events, unchanged 1\n", "the parked event applied: only the unprocessable one is left")

		var history int64
		require.NoError(t, store.DB().Model(&models.PayoutHistory{}).Count(&history).Error)
		out, err = runReplay(t, dbURL, "--state", "applied,ignored", "--from", "2025-06-01", "--to", "2025-06-03")
		require.NoError(t, err, out)
		require.Contains(t, out, "replayed 2 events, unchanged 2\n")
		var after int64
		require.NoError(t, store.DB().Model(&models.PayoutHistory{}).Count(&after).Error)
		require.Equal(t, history, after, "replaying applied events writes nothing")

		out, err = runReplay(t, dbURL, "--state", "all", "--to", "2025-06-01")
		require.NoError(t, err, out)
		require.Equal(t, "replayed 0 events\n", out)
	})
}

func TestReplayCommandUsageErrors(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "never-opened.db")
	for name, tc := range map[string]struct {
		args []string
		flag string
	}{
		"bad state":      {[]string{"--state", "done"}, "-state"},
		"bad from":       {[]string{"--from", "06/01/2025"}, "-from"},
		"to before from": {[]string{"--from", "2025-06-02", "--to", "2025-06-01"}, "-to"},
		"unknown flag":   {[]string{"--since", "x"}, "-since"},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := runReplay(t, dbURL, tc.args...)
			require.Error(t, err)
			require.Equal(t, 2, exitCode(err), "%v", err)
			require.Contains(t, err.Error(), tc.flag)
			require.NotContains(t, err.Error(), "\n", "one line")
			require.Empty(t, out)
		})
	}
	_, err := os.Stat(strings.TrimPrefix(dbURL, "sqlite:"))
	require.ErrorIs(t, err, os.ErrNotExist, "a usage error opens no database")

}
