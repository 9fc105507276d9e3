package coinflowtest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func TestEmulatorIsAHandler(t *testing.T) {
	t.Parallel()
	e := coinflowtest.New(coinflowtest.Options{APIKey: "k", InitialBalanceCents: 42})
	defer e.Close()
	req := httptest.NewRequest(http.MethodGet, "/merchant/withdraws/payout/balance", nil)
	req.Header.Set("Authorization", "k")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"balance":{"cents":42}}`, rec.Body.String())
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nowhere", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.JSONEq(t, `{"msg":"Not found"}`, rec.Body.String())
}

func TestCloseEndsHangsAndDeliveries(t *testing.T) {
	t.Parallel()
	srv := coinflowtest.NewServer(coinflowtest.Options{})
	srv.SetAPIFaults(coinflowtest.APIFault{Status: 503, Hang: time.Minute})
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/merchant/withdraws", nil)
		req.Header.Set("Authorization", srv.APIKey())
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	require.Eventually(t, func() bool { return srv.Calls(coinflowtest.OpListWithdraws) == 1 }, 5*time.Second, time.Millisecond)

	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for the hang")
	}
	require.Error(t, <-errc, "an aborted hang sends no answer")
	require.ErrorIs(t, srv.WaitWebhooks(context.Background()), coinflowtest.ErrClosed)
}

func TestWithdrawQuoteAndWebhookDates(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	r := b.call(t, http.MethodGet, "/withdraw/quote?token=usdc&amount=12.345&merchantId=acme-payouts", nil, "x-coinflow-auth-user-id", "u-1")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var q struct {
		Quote money `json:"quote"`
		ASAP  struct {
			FinalSettlement money `json:"finalSettlement"`
		} `json:"asap"`
	}
	r.decode(t, &q)
	require.Equal(t, int64(1235), q.Quote.Cents, "12.345 rounds half up to 1235 cents")
	require.Equal(t, int64(985), q.ASAP.FinalSettlement.Cents)
	require.Equal(t, http.StatusBadRequest, b.call(t, http.MethodGet, "/withdraw/quote?token=usdc&amount=-1&merchantId=m", nil, "x-coinflow-auth-user-id", "u-1").Status)

	b.mustPayout(t, "u-1", "bnk_u-1", "asap", 100, key(1))
	b.wait(t)
	b.srv.Advance(time.Hour) // Withdraw Success, sent at 15:00
	b.wait(t)
	var rows []struct {
		EventType string `json:"eventType"`
		SentAt    string `json:"sentAt"`
	}
	b.call(t, http.MethodGet, "/merchant/webhooks?startDate=2025-06-02T14:30:00Z", nil).decode(t, &rows)
	require.Len(t, rows, 1)
	require.Equal(t, "Withdraw Success", rows[0].EventType)
	require.Equal(t, "2025-06-02T15:00:00.000Z", rows[0].SentAt)
	b.call(t, http.MethodGet, "/merchant/webhooks?endDate=2025-06-02T14:00:00Z", nil).decode(t, &rows)
	require.Len(t, rows, 1)
	require.Equal(t, "Withdraw Pending", rows[0].EventType)
}
