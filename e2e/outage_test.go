package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/inbox"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/webhook"
)

// coinflowDeadline is how long Coinflow waits for an answer: anything later
// counts as a failed delivery, so even "unavailable" must come sooner.
const coinflowDeadline = 5 * time.Second

// outageDeliveries is how many deliveries of one event are made during each
// outage.
const outageDeliveries = 3

// TestDatabaseOutage cuts payoutd off from PostgreSQL through a proxy, once
// by refusing connections and once by swallowing every byte, and checks that
// payoutd answers 503 within Coinflow's deadline without acknowledging
// anything, reports itself not ready, and recovers by itself when the
// database is back: the same event, retried, is then stored and applied,
// with no restart.
func TestDatabaseOutage(t *testing.T) {
	base := dbtest.RequirePostgres(t)
	dbURL := dbtest.PostgresURL(t)
	proxy, err := NewProxy(serverAddr(t, base))
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	bin := buildPayoutd(t, "")
	d := startDaemon(t, bin, withHost(t, dbURL, proxy.Addr()))
	db := openDB(t, dbURL) // direct: sees what payoutd stored whatever the proxy does
	pid := d.pid()
	created := time.Date(2025, 6, 2, 14, 3, 12, 6_000_000, time.UTC)

	// Before any outage, so that payoutd's pool holds connections the
	// outage then breaks.
	baseline := withdrawBody(t, inbox.EventWithdrawPending, "outage-baseline-4Qm2", created, 2500)
	require.Equal(t, 1, deliverUntilOK(t, d, baseline, 10*time.Second), "attempts for the baseline event")
	waitPayoutStatus(t, d, "outage-baseline-4Qm2", "pending")

	for _, tc := range []struct {
		name string
		cut  func() error
	}{
		{"refused", func() error { proxy.Down(); return nil }},
		{"black_hole", proxy.BlackHole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			txn := "outage-" + tc.name + "-9Zp1"
			body := withdrawBody(t, inbox.EventWithdrawPending, txn, created, 4200)
			key, _ := webhook.DedupKey(body)
			require.NoError(t, tc.cut())
			cutAt := time.Now()

			start := time.Now()
			code, _, err := d.get("/readyz", "")
			readyzTook := time.Since(start)
			require.NoError(t, err)
			require.Equal(t, http.StatusServiceUnavailable, code, "/readyz while the database is unreachable")
			require.Less(t, readyzTook, coinflowDeadline)
			code, _, err = d.get("/healthz", "")
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, code, "/healthz while the database is unreachable: the process runs")

			// Deliveries overlap, launched a second apart, so that later ones
			// queue behind a commit already stuck on the database: each must
			// still be answered 503 in time, and none acknowledged.
			type answer struct {
				code int
				err  error
				took time.Duration
			}
			answers := make(chan answer, outageDeliveries)
			for i := range outageDeliveries {
				if i > 0 {
					time.Sleep(time.Second) // pacing the deliveries, not waiting for anything
				}
				go func() {
					start := time.Now()
					code, err := postWebhook(t.Context(), d.client, d.URL(), body)
					answers <- answer{code, err, time.Since(start)}
				}()
			}
			var slowest time.Duration
			for range outageDeliveries {
				a := <-answers
				require.NoError(t, a.err)
				require.Equal(t, http.StatusServiceUnavailable, a.code, "delivery while the database is unreachable")
				require.Less(t, a.took, coinflowDeadline, "delivery answered too late for Coinflow")
				slowest = max(slowest, a.took)
			}
			require.Zero(t, countRows(t, db, "SELECT COUNT(*) FROM inbox_events WHERE dedup_key = $1", key),
				"event stored while the database was unreachable to payoutd")

			require.NoError(t, proxy.Up())
			upAt := time.Now()
			d.waitReady(15 * time.Second)
			readyAfter := time.Since(upAt)
			attempts := deliverUntilOK(t, d, body, 15*time.Second)
			p := waitPayoutStatus(t, d, txn, "pending")
			require.EqualValues(t, 1, countRows(t, db,
				"SELECT COUNT(*) FROM inbox_events WHERE dedup_key = $1 AND status = 'applied'", key), "the event stored and applied once")
			require.EqualValues(t, 1, countRows(t, db, `SELECT COUNT(*) FROM payout_history h
				JOIN inbox_events e ON e.id = h.inbox_event_id WHERE e.dedup_key = $1`, key), "history rows for the event")
			require.True(t, d.running(), "payoutd still running")
			require.Equal(t, pid, d.pid(), "payoutd was not restarted")

			t.Logf("%s: /readyz 503 in %s; %d overlapping deliveries 503, slowest in %s; after %s down, ready again %s after the database came back; "+
				"the retried event answered 200 on attempt %d and was applied (payout %s, status %s)",
				tc.name, readyzTook.Round(time.Millisecond), outageDeliveries, slowest.Round(time.Millisecond), upAt.Sub(cutAt).Round(time.Millisecond),
				readyAfter.Round(time.Millisecond), attempts, p.ID, p.Status)
		})
	}
}

// serverAddr is the host:port of the PostgreSQL server in dbURL.
func serverAddr(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	require.NotEmpty(t, u.Hostname(), "the outage test needs a TCP host in %s", dbtest.EnvURL)
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// withHost is dbURL pointed at addr instead.
func withHost(t *testing.T, dbURL, addr string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	u.Host = addr
	return u.String()
}

// deliverUntilOK retries body, like Coinflow, until it is answered 200, and
// returns the number of attempts.
func deliverUntilOK(t *testing.T, d *daemon, body []byte, timeout time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for attempt := 1; ; attempt++ {
		code, err := postWebhook(t.Context(), d.client, d.URL(), body)
		if err == nil && code == http.StatusOK {
			return attempt
		}
		require.True(t, time.Now().Before(deadline), "no 200 after %d attempts in %s: last %d %v", attempt, timeout, code, err)
		time.Sleep(50 * time.Millisecond)
	}
}

// waitPayoutStatus polls the API until the payout of transaction txn exists
// with status want; the applier runs after the answer, so it takes a moment.
func waitPayoutStatus(t *testing.T, d *daemon, txn, want string) testserver.Payout {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last string
	for {
		code, b, err := d.get("/api/v1/payouts?transaction="+url.QueryEscape(txn), testAPIToken)
		if err == nil && code == http.StatusOK {
			var resp testserver.PayoutPage
			require.NoError(t, json.Unmarshal(b, &resp), "decode %s", b)
			require.LessOrEqual(t, len(resp.Payouts), 1, "payouts for transaction %s", txn)
			if len(resp.Payouts) == 1 && resp.Payouts[0].Status == want {
				p := resp.Payouts[0]
				require.NotNil(t, p.Coinflow.Transaction)
				require.Equal(t, txn, *p.Coinflow.Transaction)
				return p
			}
			last = string(b)
		} else {
			last = http.StatusText(code) + " " + errString(err)
		}
		require.True(t, time.Now().Before(deadline), "payout %s not %s via the API after 10s; last answer: %s", txn, want, last)
		time.Sleep(50 * time.Millisecond)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
