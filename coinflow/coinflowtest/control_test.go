package coinflowtest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

type simState struct {
	Now            string         `json:"now"`
	BalanceCents   int64          `json:"balanceCents"`
	Withdraws      int            `json:"withdraws"`
	PayoutsCreated int            `json:"payoutsCreated"`
	ByStatus       map[string]int `json:"byStatus"`
	Calls          map[string]int `json:"calls"`
	Webhooks       struct {
		Delivered int `json:"delivered"`
		Dropped   int `json:"dropped"`
	} `json:"webhooks"`
}

func TestControlSurface(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	sim := func(method, path string, body any, want int) response {
		t.Helper()
		r := b.call(t, method, "/_sim"+path, body)
		require.Equal(t, want, r.Status, "%s %s: %s", method, path, r.Body)
		return r
	}

	sim(http.MethodPost, "/withdrawers", map[string]any{"userId": "u-1", "bankToken": "bnk_1"}, http.StatusCreated)
	sim(http.MethodPost, "/withdrawers", map[string]any{"userId": "u-1"}, http.StatusConflict)
	sim(http.MethodPost, "/withdrawers", map[string]any{"userId": "u-2", "verification": "pending", "bankToken": "bnk_2"}, http.StatusCreated)
	sim(http.MethodPost, "/balance", map[string]any{"cents": 50_000}, http.StatusOK)
	require.Equal(t, int64(50_000), b.srv.Balance())

	require.Equal(t, http.StatusUnavailableForLegalReasons, b.payout(t, "u-2", "bnk_2", "asap", 100, key(1)).Status)
	sim(http.MethodPost, "/withdrawers/u-2/verification", map[string]any{"status": "approved"}, http.StatusOK)
	sim(http.MethodPost, "/withdrawers/u-9/verification", map[string]any{"status": "approved"}, http.StatusNotFound)
	sim(http.MethodPost, "/withdrawers/u-2/blocked", map[string]any{"blocked": true}, http.StatusOK)
	require.Equal(t, http.StatusForbidden, b.payout(t, "u-2", "bnk_2", "asap", 100, key(1)).Status)
	sim(http.MethodPost, "/withdrawers/u-2/blocked", map[string]any{"blocked": false}, http.StatusOK)

	a := b.mustPayout(t, "u-2", "bnk_2", "asap", 1_000, key(1))
	c := b.mustPayout(t, "u-1", "bnk_1", "standard", 2_000, key(2))
	d := b.mustPayout(t, "u-1", "bnk_1", "standard", 3_000, key(3))
	sim(http.MethodPost, "/withdraws/"+c.Signature+"/stuck", nil, http.StatusOK)
	sim(http.MethodPost, "/withdraws/"+d.Signature+"/in-review", nil, http.StatusOK)
	sim(http.MethodPost, "/advance", map[string]any{"duration": "72h"}, http.StatusOK)
	require.Equal(t, time.Date(2025, 6, 5, 14, 0, 0, 0, time.UTC), b.srv.Now())
	w, _ := b.srv.Withdraw(a.Signature)
	require.Equal(t, "completed", w.Status)

	sim(http.MethodPost, "/withdraws/"+a.Signature+"/fail-after-success", nil, http.StatusOK)
	sim(http.MethodPost, "/withdraws/"+a.Signature+"/return-complete", nil, http.StatusOK)
	sim(http.MethodPost, "/withdraws/"+c.Signature+"/complete", nil, http.StatusOK)
	sim(http.MethodPost, "/withdraws/"+d.Signature+"/fail", map[string]any{"detailMessage": "R03"}, http.StatusOK)
	sim(http.MethodPost, "/withdraws/"+d.Signature+"/fail", nil, http.StatusConflict)
	sim(http.MethodPost, "/withdraws/nope/complete", nil, http.StatusNotFound)
	sim(http.MethodPost, "/withdraws/"+d.Signature+"/explode", nil, http.StatusNotFound)
	w, _ = b.srv.Withdraw(d.Signature)
	require.Equal(t, "R03", w.DetailMessage)

	sim(http.MethodPost, "/downgrade", map[string]any{"from": "asap", "to": "standard"}, http.StatusOK)
	require.Equal(t, "standard", b.mustPayout(t, "u-1", "bnk_1", "asap", 100, key(4)).EffectiveSpeed)
	sim(http.MethodPost, "/withdraws", map[string]any{"userId": "u-1", "amountCents": 700, "noWebhooks": true}, http.StatusCreated)

	sim(http.MethodPost, "/faults/api", map[string]any{"operation": "balance", "status": 429, "retryAfter": "3s", "times": 1}, http.StatusOK)
	r := b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "3", r.Header.Get("Retry-After"))
	sim(http.MethodPost, "/faults/api", map[string]any{"operation": "balance", "status": 503}, http.StatusOK)
	require.Equal(t, http.StatusServiceUnavailable, b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil).Status)
	sim(http.MethodDelete, "/faults/api", nil, http.StatusOK)
	require.Equal(t, http.StatusOK, b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil).Status)

	sim(http.MethodPost, "/faults/webhooks", map[string]any{"dropNext": 1}, http.StatusOK)
	b.mustPayout(t, "u-1", "bnk_1", "asap", 100, key(5))
	sim(http.MethodDelete, "/faults/webhooks", nil, http.StatusOK)
	b.wait(t)

	var s simState
	sim(http.MethodGet, "/state", nil, http.StatusOK).decode(t, &s)
	require.Equal(t, "2025-06-05T14:00:00.000Z", s.Now)
	require.Equal(t, b.srv.Balance(), s.BalanceCents)
	require.Equal(t, 6, s.Withdraws)
	require.Equal(t, 5, s.PayoutsCreated)
	require.Equal(t, 2, s.ByStatus["failed"])
	require.Equal(t, 7, s.Calls["payout"])
	require.Equal(t, 1, s.Webhooks.Dropped)
	require.Positive(t, s.Webhooks.Delivered)

	var ws []coinflowtest.Withdraw
	sim(http.MethodGet, "/withdraws", nil, http.StatusOK).decode(t, &ws)
	require.Len(t, ws, 6)
	var ds []coinflowtest.Delivery
	sim(http.MethodGet, "/deliveries", nil, http.StatusOK).decode(t, &ds)
	require.Len(t, ds, len(b.srv.Deliveries()))

	sim(http.MethodPost, "/synthetic", map[string]any{"n": 25}, http.StatusOK)
	require.Len(t, b.list(t, "limit=100"), 31)
	sim(http.MethodPost, "/now", map[string]any{"time": "2025-07-01T00:00:00Z"}, http.StatusOK)
	require.Equal(t, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), b.srv.Now())
	sim(http.MethodPost, "/webhooks/url", map[string]any{"url": ""}, http.StatusOK)
	sim(http.MethodPost, "/webhooks/flush", nil, http.StatusOK)
	require.Zero(t, b.srv.Calls("_sim"), "control calls are not counted")
}
