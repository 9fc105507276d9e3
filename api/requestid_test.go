package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/webhook"
)

// madeID is what payoutd makes when the caller sends no usable id.
var madeID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// traced sends one request with the X-Request-Id given ("" sends none) and
// returns the response's id, its status and the log entries written while
// serving it. Nothing else runs in the test server meanwhile (the applier
// is drained by hand, the emulator sends no webhooks), so every entry
// belongs to this request; the access log is written before the response
// is finished, so it is among them.
func traced(t *testing.T, logs *logtest.Hook, req *http.Request, id string) (string, int, []*logrus.Entry) {
	t.Helper()
	if id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	logs.Reset()
	resp, err := (&http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Request-Id"), resp.StatusCode, logs.AllEntries()
}

// requireEveryLineCarries checks that each entry carries id and that the
// lines named in want were all written.
func requireEveryLineCarries(t *testing.T, entries []*logrus.Entry, id string, want ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range entries {
		require.Equal(t, id, e.Data["request_id"], "log line %q", e.Message)
		seen[e.Message] = true
	}
	for _, msg := range want {
		require.True(t, seen[msg], "no %q line among %d", msg, len(entries))
	}
}

func newRequest(t *testing.T, method, target, authorization, contentType, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, strings.NewReader(body))
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// TestRequestIDReachesResponseAndEveryLogLine follows requests through the
// API (a payout paid through the emulator, whose service logs with its own
// logger), the webhook endpoint, the dashboard and an unknown route: each
// answer carries X-Request-Id, the caller's when it is sane and a new one
// otherwise, and every log line written while serving it carries the same
// id as request_id.
func TestRequestIDReachesResponseAndEveryLogLine(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		emu := coinflowtest.NewServer(coinflowtest.Options{APIKey: "emulator-api-key", InitialBalanceCents: 1_000_000_00})
		t.Cleanup(emu.Close)
		_, err := emu.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-ok", Verification: "approved", BankToken: "bnk_aBL5aQhuRYNCfiFogfAa5zha"})
		require.NoError(t, err)
		cf, err := coinflow.New(coinflow.Config{BaseURL: emu.URL, APIKey: "emulator-api-key", Timeout: 2 * time.Second})
		require.NoError(t, err)
		srv := testserver.Start(t, store, testserver.Options{Coinflow: cf})

		payout := func(key string) *http.Request {
			return newRequest(t, http.MethodPost, srv.URL+"/api/v1/payouts", bearer, "application/json",
				`{"user_id":"u-ok","amount":{"cents":2500,"currency":"USD"},"speed":"asap","account":"bnk_aBL5aQhuRYNCfiFogfAa5zha","idempotency_key":"`+key+`"}`)
		}

		t.Run("the caller's id", func(t *testing.T) {
			const id = "req-7f3a 2b/9c:client"
			got, status, entries := traced(t, srv.Logs, payout("k-1"), id)
			require.Equal(t, http.StatusCreated, status)
			require.Equal(t, id, got)
			requireEveryLineCarries(t, entries, id, "payout recorded", "payout accepted by Coinflow", "request")
		})
		t.Run("an id payoutd makes", func(t *testing.T) {
			got, status, entries := traced(t, srv.Logs, payout("k-2"), "")
			require.Equal(t, http.StatusCreated, status)
			require.Regexp(t, madeID, got)
			requireEveryLineCarries(t, entries, got, "payout recorded", "payout accepted by Coinflow", "request")
			again, _, _ := traced(t, srv.Logs, payout("k-3"), "")
			require.NotEqual(t, got, again, "each request gets its own id")
		})
		for name, bad := range map[string]string{
			"too long":  strings.Repeat("a", 129),
			"a tab":     "id\twith-tab",
			"not ascii": "idé",
		} {
			t.Run("replaced: "+name, func(t *testing.T) {
				req := newRequest(t, http.MethodGet, srv.URL+"/api/v1/payouts/no-such-payout", bearer, "", "")
				got, status, entries := traced(t, srv.Logs, req, bad)
				require.Equal(t, http.StatusNotFound, status)
				require.Regexp(t, madeID, got)
				requireEveryLineCarries(t, entries, got, "request")
			})
		}
		t.Run("longest kept", func(t *testing.T) {
			id := strings.Repeat("b", 128)
			got, _, entries := traced(t, srv.Logs, newRequest(t, http.MethodGet, srv.URL+"/api/v1/payouts", bearer, "", ""), id)
			require.Equal(t, id, got)
			requireEveryLineCarries(t, entries, id, "request")
		})
		t.Run("webhooks", func(t *testing.T) {
			body := `{"eventType":"Withdraw Pending","category":"Withdraw","created":"2025-06-02T14:03:12.006Z",` +
				`"data":{"wallet":"w","blockchain":"solana","signature":"sig-reqid","total":{"cents":2500,"currency":"USD"},` +
				`"currency":"USD","merchantId":"acme-payouts","userId":"u-ok"}}`
			req := newRequest(t, http.MethodPost, srv.URL+"/webhooks/coinflow", "", "application/json", body)
			req.Header.Set("Coinflow-Signature", srv.Sign([]byte(body)))
			got, status, entries := traced(t, srv.Logs, req, "wh-1")
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, "wh-1", got)
			requireEveryLineCarries(t, entries, "wh-1", "webhook received", "request")

			req = newRequest(t, http.MethodPost, srv.URL+"/webhooks/coinflow", "wrong-key", "application/json", body)
			got, status, entries = traced(t, srv.Logs, req, "")
			require.Equal(t, http.StatusUnauthorized, status)
			require.Regexp(t, madeID, got)
			requireEveryLineCarries(t, entries, got, "reject unauthenticated webhook", "request")
		})
		t.Run("dashboard", func(t *testing.T) {
			req := newRequest(t, http.MethodPost, srv.URL+"/login", "", "application/x-www-form-urlencoded",
				url.Values{"token": {"not-the-token"}}.Encode())
			got, status, entries := traced(t, srv.Logs, req, "dash-1")
			require.Equal(t, http.StatusUnauthorized, status)
			require.Equal(t, "dash-1", got)
			requireEveryLineCarries(t, entries, "dash-1", "dashboard login refused", "request")
		})
		t.Run("no such route", func(t *testing.T) {
			got, status, entries := traced(t, srv.Logs, newRequest(t, http.MethodGet, srv.URL+"/nowhere", "", "", ""), "")
			require.Equal(t, http.StatusNotFound, status)
			require.Regexp(t, madeID, got)
			requireEveryLineCarries(t, entries, got, "request")
		})
	})
}

// TestRequestIDOnRecoveredPanic: a handler that panics still answers with
// the request's id, and the recovery's log line carries it.
func TestRequestIDOnRecoveredPanic(t *testing.T) {
	store := dbtest.SQLite(t, dbtest.Options{})
	logger, logs := logtest.NewNullLogger()
	m := metrics.New()
	wh, err := webhook.NewHandler(nil, m, logger.WithField("component", "webhook"), webhook.HandlerConfig{})
	require.NoError(t, err)
	gin.SetMode(gin.ReleaseMode)
	r := api.NewRouter(api.Deps{Store: store, Metrics: m, Log: logger.WithField("component", "http"), Webhook: wh})
	r.GET("/boom", func(*gin.Context) { panic("boom") })
	hs := httptest.NewServer(r)
	t.Cleanup(hs.Close)
	srv := hs.URL

	got, status, entries := traced(t, logs, newRequest(t, http.MethodGet, srv+"/boom", "", "", ""), "panic-1")
	require.Equal(t, http.StatusInternalServerError, status)
	require.Equal(t, "panic-1", got)
	requireEveryLineCarries(t, entries, "panic-1", "handler panicked")

	// A panic once part of an answer is out cuts the connection: an error
	// body appended to a begun download would make it look whole.
	r.GET("/half", func(c *gin.Context) {
		c.Status(http.StatusOK)
		_, _ = c.Writer.WriteString("id,amount\n1,2.00\n")
		c.Writer.Flush()
		panic("after the first rows")
	})
	resp, err := http.Get(srv + "/half")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the download is cut, not ended")
	require.Equal(t, "id,amount\n1,2.00\n", string(body), "no error body after the rows")
}
