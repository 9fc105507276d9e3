package coinflowtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func TestAPIFault503ThenSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Status: 503, Times: 2})

	for range 2 {
		r := b.payout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		require.NotEmpty(t, r.msg(t))
	}
	require.Zero(t, b.srv.PayoutsCreated(), "a faulted call does not reach the operation")
	b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	require.Equal(t, 3, b.srv.Calls(coinflowtest.OpPayout))
	require.Equal(t, 1, b.srv.PayoutsCreated())
	// Other operations are untouched.
	require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil).Status)
}

func TestAPIFault429RetryAfterAndStacking(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.srv.SetAPIFaults(
		coinflowtest.APIFault{Status: 429, RetryAfter: 1500 * time.Millisecond, Times: 1},
		coinflowtest.APIFault{Operation: coinflowtest.OpBalance, Status: 500, After: 1, Times: 1},
	)
	r := b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "2", r.Header.Get("Retry-After"))
	require.Equal(t, http.StatusInternalServerError, b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil).Status)
	require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil).Status)

	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Status: 503})
	for range 3 {
		require.Equal(t, http.StatusServiceUnavailable, b.call(t, http.MethodGet, "/merchant/withdraws", nil).Status)
	}
	b.srv.ClearAPIFaults()
	require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/merchant/withdraws", nil).Status)
}

func TestAPIFaultHangRespectsClientTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Hang: time.Minute, Times: 1})

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	body := `{"idempotencyKey":"` + key(1) + `","speed":"asap","account":"bnk_u-1","userId":"u-1","amount":{"cents":1000}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.srv.URL+"/merchant/withdraws/payout/delegated", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", b.srv.APIKey())
	start := time.Now()
	_, err = b.srv.Client().Do(req)
	require.True(t, errors.Is(err, context.DeadlineExceeded), "err %v", err)
	require.Less(t, time.Since(start), 5*time.Second)

	// The payout was made; only its answer was lost. The retry replays it.
	require.Equal(t, 1, b.srv.PayoutsCreated())
	p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	w, _ := b.srv.Withdraw(p.Signature)
	require.Equal(t, key(1), w.IdempotencyKey)
	require.Equal(t, 1, b.srv.PayoutsCreated())
}

func TestAPIFaultTruncatedBody(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, TruncateBody: true, Times: 1})

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL+"/merchant/withdrawers", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", b.srv.APIKey())
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	var v any
	require.Error(t, json.Unmarshal(raw, &v))

	require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/merchant/withdrawers", nil).Status)
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	for _, path := range []string{"/merchant/withdraws", "/merchant/withdraws/payout/balance", "/merchant/withdrawers", "/merchant/webhooks", "/_sim/state"} {
		for _, k := range []string{"", "wrong", "Bearer " + b.srv.APIKey()} {
			r := b.callKey(t, k, http.MethodGet, path, nil)
			require.Equal(t, http.StatusUnauthorized, r.Status, "%s with %q", path, k)
			require.NotEmpty(t, r.msg(t))
		}
	}
	r := b.callKey(t, "wrong", http.MethodPost, "/merchant/withdraws/payout/delegated", `{}`)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, 1, b.srv.Calls(coinflowtest.OpPayout), "a refused call still counts")
	require.Equal(t, http.StatusUnauthorized, b.call(t, http.MethodGet, "/withdraw", nil).Status, "no user header")
	require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/api/merchant/withdraws", nil).Status, "the /api prefix works too")
}
