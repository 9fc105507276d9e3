package coinflow_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/contract"
)

// clientOperations are the spec operations the client calls: each must be
// exercised by TestClientConformsToSpec.
var clientOperations = []string{
	"GET /merchant/withdraws",
	"GET /merchant/withdraws/{withdrawalId}",
	"GET /merchant/withdraws/payout/balance",
	"POST /merchant/withdraws/payout/delegated/quote",
	"POST /merchant/withdraws/payout/delegated",
	"GET /merchant/withdrawers",
	"GET /withdraw",
}

// TestClientConformsToSpec runs every client operation, success and error
// paths, against the emulator through a contract.Recorder, so that each
// request the client sends and each answer the emulator gives is validated
// against openapi-payouts.json.
func TestClientConformsToSpec(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := coinflowtest.NewServer(coinflowtest.Options{InitialBalanceCents: 1_000_000})
	t.Cleanup(srv.Close)
	v, err := contract.New(srv.URL)
	require.NoError(t, err)
	rec := &contract.Recorder{Base: srv.Client().Transport, Validator: v}
	c, err := coinflow.New(coinflow.Config{
		BaseURL: srv.URL, APIKey: srv.APIKey(), HTTPClient: &http.Client{Transport: rec},
		SleepFunc: noSleep,
	})
	require.NoError(t, err)

	_, err = srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-ok", BankToken: "bnk_ok"})
	require.NoError(t, err)
	_, err = srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-kyc", BankToken: "bnk_kyc", Verification: coinflowtest.VerificationPending})
	require.NoError(t, err)
	_, err = srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-blocked", BankToken: "bnk_blocked", Blocked: true})
	require.NoError(t, err)
	for range 2 {
		_, err = srv.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "u-ok", AmountCents: 1_000, Status: coinflowtest.StatusCompleted, NoWebhooks: true})
		require.NoError(t, err)
	}

	// Quote and payout, then read the payout back.
	q, err := c.Quote(ctx, coinflow.QuoteRequest{Speed: "same_day", Account: "bnk_ok", UserID: "u-ok", Amount: coinflow.Amount{Cents: 25_000}})
	require.NoError(t, err)
	require.Equal(t, coinflow.CurrencyCents{Cents: 25_150, Currency: "USD"}, q.TotalMerchantDebit)
	require.Contains(t, q.Speeds, "same_day")

	p, err := c.Payout(ctx, coinflow.PayoutRequest{
		IdempotencyKey: "k-contract-1", Speed: "same_day", Account: "bnk_ok", UserID: "u-ok", Amount: coinflow.Amount{Cents: 25_000, Currency: "USD"},
	})
	require.NoError(t, err)
	require.Equal(t, "same_day", p.EffectiveSpeed)

	w, err := c.GetWithdraw(ctx, p.Signature)
	require.NoError(t, err)
	require.Equal(t, "k-contract-1", w.IdempotencyKey)
	require.Equal(t, coinflow.CurrencyCents{Cents: 25_000, Currency: "USD"}, w.Amount)

	// Three withdraws over pages of two: two list calls.
	var listed []string
	for w, err := range c.Withdraws(ctx, coinflow.ListWithdrawsParams{Limit: 2}) {
		require.NoError(t, err)
		listed = append(listed, w.Transaction)
	}
	require.Len(t, listed, 3)
	require.Contains(t, listed, p.Signature)

	bal, err := c.Balance(ctx)
	require.NoError(t, err)
	require.Equal(t, srv.Balance(), bal)

	blocked := true
	ws, err := c.Withdrawers(ctx, coinflow.ListWithdrawersParams{Blocked: &blocked})
	require.NoError(t, err)
	require.Len(t, ws, 1)
	require.Equal(t, "u-blocked", ws[0].UserID())
	ws, err = c.Withdrawers(ctx, coinflow.ListWithdrawersParams{Search: "u-"})
	require.NoError(t, err)
	require.Len(t, ws, 3)

	wd, err := c.GetWithdrawer(ctx, "u-ok")
	require.NoError(t, err)
	require.Equal(t, "bnk_ok", wd.BankAccounts[0].Token)

	// Error paths the spec declares, and one it does not (403).
	_, err = c.GetWithdraw(ctx, "no-such-withdraw")
	require.ErrorIs(t, err, coinflow.ErrNotFound)

	_, err = c.GetWithdrawer(ctx, "u-kyc")
	require.ErrorIs(t, err, coinflow.ErrVerificationRequired)

	_, err = c.Payout(ctx, coinflow.PayoutRequest{IdempotencyKey: "k-contract-kyc", Speed: "same_day", Account: "bnk_kyc", UserID: "u-kyc", Amount: coinflow.Amount{Cents: 100}})
	require.ErrorIs(t, err, coinflow.ErrVerificationRequired)

	_, err = c.Payout(ctx, coinflow.PayoutRequest{IdempotencyKey: "k-contract-402", Speed: "same_day", Account: "bnk_ok", UserID: "u-ok", Amount: coinflow.Amount{Cents: 10_000_000}})
	require.ErrorIs(t, err, coinflow.ErrInsufficientFunds)

	_, err = c.Payout(ctx, coinflow.PayoutRequest{IdempotencyKey: "k-contract-403", Speed: "same_day", Account: "bnk_blocked", UserID: "u-blocked", Amount: coinflow.Amount{Cents: 100}})
	require.ErrorIs(t, err, coinflow.ErrBlocked)

	exchanges := rec.Exchanges()
	exercised := map[string][]int{}
	var withdrawContradiction bool
	for _, ex := range exchanges {
		op := ex.Method + " " + ex.Path
		exercised[op] = append(exercised[op], ex.Status)
		require.NoError(t, ex.RequestErr, "request of %s (%d)", op, ex.Status)
		if op == "POST /merchant/withdraws/payout/delegated" && ex.Status == http.StatusForbidden {
			// The spec lists 200, 402, 451 and 503 for the payout; Coinflow's
			// error page adds 403 for a blocked user. The only finding allowed
			// is that the status is undeclared: there is no schema to check
			// the body against.
			re, ok := errors.AsType[*openapi3filter.ResponseError](ex.ResponseErr)
			require.True(t, ok, "403 payout: %v", ex.ResponseErr)
			require.Equal(t, "status is not supported", re.Reason)
			t.Logf("%s answered 403, a status the spec does not declare (README 5.5: 401/403 possible but not listed)", op)
		} else {
			require.NoError(t, ex.ResponseErr, "response of %s (%d)", op, ex.Status)
		}
		if op == "GET /withdraw" && slices.Contains(ex.Known, "withdraw-auth-header") {
			withdrawContradiction = true
		}
	}
	for _, op := range clientOperations {
		require.Contains(t, exercised, op, "operation not exercised")
	}
	require.ElementsMatch(t, []int{200, 200}, exercised["GET /merchant/withdraws"])
	require.ElementsMatch(t, []int{200, 404}, exercised["GET /merchant/withdraws/{withdrawalId}"])
	require.ElementsMatch(t, []int{200, 451, 402, 403}, exercised["POST /merchant/withdraws/payout/delegated"])
	require.ElementsMatch(t, []int{200, 451}, exercised["GET /withdraw"])

	require.True(t, withdrawContradiction, "GET /withdraw reports the known contradiction withdraw-auth-header")
	i := slices.IndexFunc(contract.KnownContradictions, func(c contract.Contradiction) bool { return c.Name == "withdraw-auth-header" })
	require.GreaterOrEqual(t, i, 0)
	t.Logf("GET /withdraw: known spec contradiction %q reported, not skipped: %s", contract.KnownContradictions[i].Name, contract.KnownContradictions[i].Why)
}
