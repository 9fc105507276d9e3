package coinflow

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/rail"
)

const fixtureDir = "../testdata/coinflow/fixtures/api"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, name))
	require.NoError(t, err)
	return b
}

// strictDecode decodes b into out and fails on trailing data.
func strictDecode(t *testing.T, b []byte, out any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(b, out))
}

// TestEveryAPIFixtureDecodes decodes each recorded API body with the
// client's own types and checks the values the daemon relies on.
func TestEveryAPIFixtureDecodes(t *testing.T) {
	entries, err := os.ReadDir(fixtureDir)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, e := range entries {
		seen[e.Name()] = true
	}

	checks := map[string]func(t *testing.T, b []byte){
		"merchant-withdraws.json": func(t *testing.T, b []byte) {
			var ws []Withdraw
			strictDecode(t, b, &ws)
			require.Len(t, ws, 3)
			require.Equal(t, "65ATtSdqmriSDHESTmNughATBwy7m83gFnp86oyZk21Cs6RUhwHHbbKSdfaXu9Rx55yPXTmbPbE5c7aWGo3ELgf7", ws[0].Transaction)
			require.Equal(t, CurrencyCents{25000, "USD"}, ws[0].Amount)
			require.Equal(t, WithdrawCompleted, ws[0].Status)
			require.Equal(t, "65f1a1b2c3d4e5f600000001", ws[0].Withdrawer.ID, "withdrawer as a string id")
			fees, err := ws[0].MerchantPaidFees.Total()
			require.NoError(t, err)
			require.Equal(t, CurrencyCents{150, "USD"}, fees)
			require.Equal(t, WithdrawFailed, ws[1].Status)
			require.Equal(t, ReturnCompleted, ws[1].ReturnStatus)
			require.NotNil(t, ws[1].ReturnedAt)
			require.Equal(t, WithdrawInReview, ws[2].Status)
			require.Equal(t, "standard", ws[2].Speed)
			require.EqualValues(t, 125000000, ws[2].Amount.Cents)
			require.NotNil(t, ws[2].ExpectedDeliveryDate)
		},
		"merchant-withdraw.json": func(t *testing.T, b []byte) {
			var out struct {
				Withdrawal Withdraw `json:"withdrawal"`
			}
			strictDecode(t, b, &out)
			require.Equal(t, "9b1c6a0e-2f4d-4c8a-9e17-5d3b2a1c0f11", out.Withdrawal.IdempotencyKey)
			require.Equal(t, "3f6d1c2a-8b7e-4d55-9a0e-6c1f2b3a4d51", out.Withdrawal.TransferID)
		},
		"merchant-withdraw-404.json": func(t *testing.T, b []byte) {
			var out struct{ Msg string }
			strictDecode(t, b, &out)
			require.Equal(t, "Withdrawal not found", out.Msg)
		},
		"payout-balance.json": func(t *testing.T, b []byte) {
			var out struct {
				Balance struct{ Cents int64 } `json:"balance"`
			}
			strictDecode(t, b, &out)
			require.EqualValues(t, 312500000, out.Balance.Cents)
		},
		"delegated-quote.request.json": func(t *testing.T, b []byte) {
			var q QuoteRequest
			strictDecode(t, b, &q)
			require.Equal(t, "same_day", q.Speed)
			require.EqualValues(t, 25000, q.Amount.Cents)
		},
		"delegated-quote.json": func(t *testing.T, b []byte) {
			var q Quote
			strictDecode(t, b, &q)
			require.Len(t, q.Speeds, len(rail.Speeds()), "one entry per speed")
			require.EqualValues(t, 150, q.Speeds["same_day"].Fee.Cents)
			require.NotEmpty(t, q.Speeds["same_day"].ExpectedDeliveryDateISO)
			require.NotZero(t, q.TotalMerchantDebit.Cents)
			require.NotEmpty(t, q.MerchantFees.Currency)
		},
		"delegated-payout.request.json": func(t *testing.T, b []byte) {
			var p PayoutRequest
			strictDecode(t, b, &p)
			require.Equal(t, "9b1c6a0e-2f4d-4c8a-9e17-5d3b2a1c0f11", p.IdempotencyKey)
			require.NotNil(t, p.WaitForConfirmation)
		},
		"delegated-payout.json": func(t *testing.T, b []byte) {
			var p PayoutResponse
			strictDecode(t, b, &p)
			require.Equal(t, "same_day", p.EffectiveSpeed)
		},
		"delegated-payout-downgraded.request.json": func(t *testing.T, b []byte) {
			var p PayoutRequest
			strictDecode(t, b, &p)
			require.Greater(t, p.Amount.Cents, int64(100000000))
		},
		"delegated-payout-downgraded.json": func(t *testing.T, b []byte) {
			var p PayoutResponse
			strictDecode(t, b, &p)
			require.Equal(t, "standard", p.EffectiveSpeed)
		},
		"delegated-payout-451.json": func(t *testing.T, b []byte) {
			e := errorFrom("delegated payout", &httpResponse451, b)
			require.ErrorIs(t, e, ErrVerificationRequired)
			require.Contains(t, e.VerificationLink, "https://")
		},
		"delegated-payout-402.json": func(t *testing.T, b []byte) {
			e := errorFrom("delegated payout", &httpResponse402, b)
			require.ErrorIs(t, e, ErrInsufficientFunds)
			require.Equal(t, "Insufficient funds", e.Message)
		},
		"merchant-withdrawers.json": func(t *testing.T, b []byte) {
			var ws []Withdrawer
			strictDecode(t, b, &ws)
			require.Len(t, ws, 3)
			require.Equal(t, "u-1001", ws[0].UserID())
			require.Equal(t, "approved", ws[0].Verification.Status)
			require.False(t, ws[0].Blocked())
			require.Equal(t, "rejected", ws[2].Verification.Status)
			require.True(t, ws[2].Blocked())
		},
		"get-withdrawer.json": func(t *testing.T, b []byte) {
			var out struct {
				Withdrawer WithdrawerWithAccounts `json:"withdrawer"`
			}
			strictDecode(t, b, &out)
			require.Equal(t, "bnk_aBL5aQhuRYNCfiFogfAa5zha", out.Withdrawer.BankAccounts[0].Token)
			require.Equal(t, "crd_h8MKQm17EsCQcsH1g8BwD6op", out.Withdrawer.Cards[0].Token)
			require.Equal(t, CardVisa, out.Withdrawer.Cards[0].Type)
			require.Equal(t, DisbursementImmediate, out.Withdrawer.Cards[0].DisbursementStatus)
			ds := out.Withdrawer.Destinations()
			require.Len(t, ds, 2)
			require.Equal(t, SavedDestination{Kind: rail.BankAccount, Token: "bnk_aBL5aQhuRYNCfiFogfAa5zha", Last4: "6789",
				Alias: "Checking ...6789", Currency: "USD", Speeds: []string{rail.ASAP, rail.SameDay, rail.Standard}}, ds[0])
			require.Equal(t, SavedDestination{Kind: rail.DebitCard, Token: "crd_h8MKQm17EsCQcsH1g8BwD6op", Last4: "4242",
				Currency: "USD", Speeds: []string{rail.Card}}, ds[1])
		},
		"withdraw-kyc-451.json": func(t *testing.T, b []byte) {
			e := errorFrom("get withdrawer", &httpResponse451, b)
			require.ErrorIs(t, e, ErrVerificationRequired)
			require.Equal(t, "pending", e.VerificationStatus)
			require.Contains(t, e.VerificationLink, "sumsub")
		},
		"merchant-webhooks.json": func(t *testing.T, b []byte) {
			var out []struct {
				ID           string          `json:"id"`
				EventType    string          `json:"eventType"`
				Data         json.RawMessage `json:"data"`
				ResponseCode int             `json:"responseCode"`
			}
			strictDecode(t, b, &out)
			require.NotEmpty(t, out)
			require.Equal(t, "Withdraw Pending", out[0].EventType)
		},
		"resend-webhook.json": func(t *testing.T, b []byte) {
			var out struct {
				JobID json.RawMessage `json:"jobId"`
			}
			strictDecode(t, b, &out)
			require.NotEmpty(t, out.JobID)
		},
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) { check(t, readFixture(t, name)) })
		delete(seen, name)
	}
	require.Empty(t, seen, "every fixture has a check")
}

func TestRefDecodesStringOrObject(t *testing.T) {
	var r Ref
	require.NoError(t, json.Unmarshal([]byte(`"abc"`), &r))
	require.Equal(t, "abc", r.ID)
	require.NoError(t, json.Unmarshal([]byte(`{"_id":"m1","name":"Acme"}`), &r))
	require.Equal(t, "m1", r.ID)
	require.NoError(t, json.Unmarshal([]byte(`null`), &r))
	require.Equal(t, "", r.ID)
	require.Error(t, json.Unmarshal([]byte(`42`), &r))
}

var (
	httpResponse451 = http.Response{StatusCode: 451, Header: http.Header{}}
	httpResponse402 = http.Response{StatusCode: 402, Header: http.Header{}}
)
