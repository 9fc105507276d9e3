package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/webhook"
)

// The keys of a rotation: A is Coinflow's key before it, B after.
const (
	rotationKeyA = "e2e-rotation-key-A-0d8f6b2a4c1e3579"
	rotationKeyB = "e2e-rotation-key-B-7e5c3a1f9d2b4068"
)

// TestKeyRotation is issue 11's rotation, end to end on the real binary:
// payoutd starts with key A; an operator sets A as the previous key and B as
// the current one and restarts; Coinflow delivers under A (it has not
// switched yet) and under B, by signature and by Authorization, and nothing
// is refused or lost; the operator removes A and restarts, and deliveries
// under A get 401 while B's still arrive.
func TestKeyRotation(t *testing.T) {
	bin := buildPayoutd(t, "")
	t.Run("sqlite", func(t *testing.T) {
		testKeyRotation(t, bin, "sqlite:"+filepath.Join(t.TempDir(), "payoutd.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		testKeyRotation(t, bin, dbtest.PostgresURL(t))
	})
}

// rotationDelivery is one delivery: under which key, by which scheme.
type rotationDelivery struct {
	key    string
	scheme string // "signature" or "authorization"
}

func testKeyRotation(t *testing.T, bin, dbURL string) {
	vars := map[string]string{"PAYOUTD_COINFLOW_WEBHOOK_KEY": rotationKeyA}
	d := launchDaemon(t, bin, dbURL, vars)
	d.waitReady(30 * time.Second)
	reconfigure := func(current, previous string) {
		t.Helper()
		vars["PAYOUTD_COINFLOW_WEBHOOK_KEY"], vars["PAYOUTD_COINFLOW_WEBHOOK_PREVIOUS_KEY"] = current, previous
		d.env = daemonEnv(withDaemonDefaults(d, dbURL, vars))
		d.restart()
	}
	created := time.Date(2025, 6, 2, 14, 3, 12, 0, time.UTC)
	deliver := func(txn, eventType string, del rotationDelivery) int {
		t.Helper()
		return postUnder(t, d, withdrawBody(t, eventType, txn, created, 4200), del)
	}

	// Before the rotation: key A only.
	require.Equal(t, http.StatusOK, deliver("rotate-before-1", inbox.EventWithdrawPending, rotationDelivery{rotationKeyA, "signature"}))
	waitPayoutStatus(t, d, "rotate-before-1", "pending")

	// During: B current, A previous. Coinflow switches whenever it does, so
	// both keys arrive, under both schemes; the withdraw begun under A ends
	// under A.
	reconfigure(rotationKeyB, rotationKeyA)
	during := []struct {
		txn string
		del rotationDelivery
	}{
		{"rotate-during-sig-a", rotationDelivery{rotationKeyA, "signature"}},
		{"rotate-during-sig-b", rotationDelivery{rotationKeyB, "signature"}},
		{"rotate-during-auth-a", rotationDelivery{rotationKeyA, "authorization"}},
		{"rotate-during-auth-b", rotationDelivery{rotationKeyB, "authorization"}},
	}
	for _, tc := range during {
		require.Equal(t, http.StatusOK, deliver(tc.txn, inbox.EventWithdrawPending, tc.del), "%s refused during the rotation", tc.txn)
	}
	require.Equal(t, http.StatusOK, deliver("rotate-before-1", inbox.EventWithdrawSuccess, rotationDelivery{rotationKeyA, "signature"}))
	for _, tc := range during {
		waitPayoutStatus(t, d, tc.txn, "pending")
	}
	waitPayoutStatus(t, d, "rotate-before-1", "completed")
	require.Equal(t, 2.0, scrapeCounter(t, d, "payoutd_webhooks_previous_key_total", `scheme="signature"`))
	require.Equal(t, 1.0, scrapeCounter(t, d, "payoutd_webhooks_previous_key_total", `scheme="authorization"`))
	if strings.HasPrefix(dbURL, "postgres") { // the test reads PostgreSQL behind the daemon's back
		db := openDB(t, dbURL)
		for _, tc := range during {
			want := map[string]string{rotationKeyA: "previous", rotationKeyB: "current"}[tc.del.key]
			require.EqualValues(t, 1, countRows(t, db, `SELECT COUNT(*) FROM inbox_events
				WHERE subject_transaction = $1 AND auth_method = $2 AND auth_key = $3 AND status = 'applied'`,
				tc.txn, tc.del.scheme, want), "%s stored with how it was authenticated", tc.txn)
		}
	}

	// After: A removed. Deliveries under A are refused, B's still arrive.
	reconfigure(rotationKeyB, "")
	require.Equal(t, http.StatusUnauthorized, deliver("rotate-after-sig-a", inbox.EventWithdrawPending, rotationDelivery{rotationKeyA, "signature"}))
	require.Equal(t, http.StatusUnauthorized, deliver("rotate-after-auth-a", inbox.EventWithdrawPending, rotationDelivery{rotationKeyA, "authorization"}))
	require.Equal(t, http.StatusOK, deliver("rotate-after-sig-b", inbox.EventWithdrawPending, rotationDelivery{rotationKeyB, "signature"}))
	waitPayoutStatus(t, d, "rotate-after-sig-b", "pending")
	require.Equal(t, 1.0, scrapeCounter(t, d, "payoutd_webhook_auth_failures_total", `cause="bad_mac"`))
	require.Equal(t, 1.0, scrapeCounter(t, d, "payoutd_webhook_auth_failures_total", `cause="bad_authorization"`))
	require.Zero(t, scrapeCounter(t, d, "payoutd_webhooks_previous_key_total", `scheme="signature"`))
	for _, txn := range []string{"rotate-after-sig-a", "rotate-after-auth-a"} {
		code, b, err := d.get("/api/v1/payouts?transaction="+txn, testAPIToken)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, string(b), `"payouts":[]`, "a delivery refused with 401 left a payout behind")
	}
}

// withDaemonDefaults is the environment launchDaemon gives d, with vars.
func withDaemonDefaults(d *daemon, dbURL string, vars map[string]string) map[string]string {
	out := map[string]string{
		"PAYOUTD_DATABASE_URL": dbURL, "PAYOUTD_LISTEN": d.addr, "PAYOUTD_API_TOKEN": testAPIToken, "PAYOUTD_LOG_LEVEL": "warn",
	}
	for k, v := range vars {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// postUnder delivers body under del's key and scheme, as Coinflow does.
func postUnder(t *testing.T, d *daemon, body []byte, del rotationDelivery) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, d.URL()+"/webhooks/coinflow", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	switch del.scheme {
	case "signature":
		req.Header.Set("Coinflow-Signature", webhook.Sign([]byte(del.key), time.Now(), body))
	case "authorization":
		req.Header.Set("Authorization", del.key)
	default:
		t.Fatalf("scheme %q", del.scheme)
	}
	resp, err := d.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
	}
	if resp.StatusCode == http.StatusOK {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		require.Equal(t, "stored", out.Status, "a new event is stored, not a duplicate")
	}
	return resp.StatusCode
}

// scrapeCounter reads one series of GET /metrics (0 when absent).
func scrapeCounter(t *testing.T, d *daemon, name, label string) float64 {
	t.Helper()
	code, b, err := d.get("/metrics", "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name+"{"+label+"}") + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)
	return v
}
