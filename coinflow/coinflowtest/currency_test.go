package coinflowtest_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// saveDest saves a destination for user through the API and returns its
// token: kind iban (body {number, bic, sortCode}) or pix (pixKey).
func (b *bundle) saveDest(t *testing.T, user, path string, body map[string]any) string {
	t.Helper()
	var token string
	b.specCall(t, http.StatusOK, http.MethodPost, path, body, "x-coinflow-auth-user-id", user).decode(t, &token)
	return token
}

type quoteTotals struct {
	TotalMerchantDebit money `json:"totalMerchantDebit"`
	UserPayout         money `json:"userPayout"`
	MerchantFees       money `json:"merchantFees"`
	Quote              money `json:"quote"`
	IBAN               struct {
		Fee             money `json:"fee"`
		Limit           money `json:"limit"`
		FinalSettlement money `json:"finalSettlement"`
	} `json:"iban"`
	PIX struct {
		Fee             money `json:"fee"`
		Limit           money `json:"limit"`
		FinalSettlement money `json:"finalSettlement"`
	} `json:"pix"`
}

func TestForeignPayoutsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		rates   map[string]string
		path    string // where the destination is saved; "" = the seeded bank account
		body    map[string]any
		speed   string
		cents   int64
		given   string // amount.currency sent; "" = left out
		cur     string // the destination's currency
		rate    string // usdToForeignExchangeRate as the JSON number
		fee     int64  // USD cents
		usd     int64  // the amount in USD cents
		settled int64  // the requested speed's finalSettlement, in cur
	}{
		{"EUR IBAN", nil, "/withdraw/iban", map[string]any{"number": "DE89370400440532013000", "bic": "COBADEFFXXX"},
			"iban", 10_000, "EUR", "EUR", "1.08", 100, 10_800, 10_000 - 93}, // 100/1.08 = 92.59
		{"EUR IBAN, currency left out", nil, "/withdraw/iban", map[string]any{"number": "FR1420041010050500013M02606", "bic": "PSSTFRPP"},
			"iban", 10_000, "", "EUR", "1.08", 100, 10_800, 10_000 - 93},
		{"GB IBAN", nil, "/withdraw/iban", map[string]any{"number": "GB29NWBK60161331926819", "bic": "NWBKGB2L"},
			"iban", 12_345, "GBP", "GBP", "1.27", 100, 15_678, 12_345 - 79}, // 15678.15; 100/1.27 = 78.74
		{"UK account", nil, "/withdraw/iban", map[string]any{"number": "31926819", "sortCode": "601613"},
			"iban", 50_000, "", "GBP", "1.27", 100, 63_500, 50_000 - 79},
		{"PIX", nil, "/withdraw/pix", map[string]any{"pixKey": "+5511999999999"},
			"pix", 999, "BRL", "BRL", "0.18", 50, 180, 999 - 278}, // 179.82; 50/0.18 = 277.78
		{"PIX, half a cent rounds away from zero", nil, "/withdraw/pix", map[string]any{"pixKey": "k"},
			"pix", 25, "", "BRL", "0.18", 50, 5, 25 - 278}, // 4.5
		{"configured rate, spelled long", map[string]string{"EUR": "01.0850"}, "/withdraw/iban", map[string]any{"number": "NL91ABNA0417164300", "bic": "ABNANL2A"},
			"iban", 30, "EUR", "EUR", "1.085", 100, 33, 30 - 92}, // 32.55; 100/1.085 = 92.17
		{"USD bank account", map[string]string{"USD": "2"}, "", nil,
			"same_day", 25_000, "USD", "USD", "1", 150, 25_000, 25_000 - 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{opts: coinflowtest.Options{ExchangeRates: tc.rates, InitialBalanceCents: 1_000_000}})
			b.addUser(t, "u-1")
			account := "bnk_u-1"
			if tc.path != "" {
				account = b.saveDest(t, "u-1", tc.path, tc.body)
			}
			total := tc.usd + tc.fee

			var q quoteTotals
			b.specCall(t, http.StatusOK, http.MethodPost, "/merchant/withdraws/payout/delegated/quote", map[string]any{
				"speed": tc.speed, "account": account, "userId": "u-1", "amount": amount(tc.cents, tc.given),
			}).decode(t, &q)
			require.Equal(t, money{total, "USD"}, q.TotalMerchantDebit)
			require.Equal(t, money{tc.cents, tc.cur}, q.UserPayout)
			require.Equal(t, money{tc.fee, "USD"}, q.MerchantFees)
			require.Equal(t, money{tc.cents, tc.cur}, q.Quote)
			entry := map[string]money{"iban": q.IBAN.FinalSettlement, "pix": q.PIX.FinalSettlement}
			if e, ok := entry[tc.speed]; ok {
				require.Equal(t, money{tc.settled, tc.cur}, e)
				require.Equal(t, money{tc.fee, "USD"}, map[string]money{"iban": q.IBAN.Fee, "pix": q.PIX.Fee}[tc.speed])
				require.Equal(t, tc.cur, map[string]money{"iban": q.IBAN.Limit, "pix": q.PIX.Limit}[tc.speed].Currency)
			}

			before := b.srv.Balance()
			var p payoutResp
			b.specCall(t, http.StatusOK, http.MethodPost, "/merchant/withdraws/payout/delegated", map[string]any{
				"idempotencyKey": key(1), "speed": tc.speed, "account": account, "userId": "u-1", "amount": amount(tc.cents, tc.given),
			}).decode(t, &p)
			require.Equal(t, q.TotalMerchantDebit.Cents, before-b.srv.Balance(), "the payout debits what the quote said")

			w, ok := b.srv.Withdraw(p.Signature)
			require.True(t, ok)
			require.Equal(t, tc.cur, w.Currency)
			require.Equal(t, tc.cents, w.AmountCents)
			require.Equal(t, total, w.DebitCents)
			require.Equal(t, tc.fee, w.MerchantFeeCents)
			require.Equal(t, tc.rate, w.ExchangeRate)

			var raw map[string]json.RawMessage
			var got struct {
				Withdrawal map[string]json.RawMessage `json:"withdrawal"`
			}
			b.specCall(t, http.StatusOK, http.MethodGet, "/merchant/withdraws/"+p.Signature, nil).decode(t, &got)
			raw = got.Withdrawal
			require.Equal(t, tc.rate, string(raw["usdToForeignExchangeRate"]), "the rate, exactly, as a JSON number")
			require.JSONEq(t, `{"cents":`+itoa(tc.cents)+`,"currency":"`+tc.cur+`"}`, string(raw["amount"]))
			require.JSONEq(t, `{"swapFees":{"cents":0,"currency":"USD"},"gasFees":{"cents":0,"currency":"USD"},"fees":{"cents":`+itoa(tc.fee)+`,"currency":"USD"}}`,
				string(raw["merchantPaidFees"]))

			// Failing it refunds the debit exactly.
			require.NoError(t, b.srv.Fail(p.Signature, "Rejected by the beneficiary bank"))
			require.Equal(t, before, b.srv.Balance())

			// A completed one returned by the bank refunds it too.
			var p2 payoutResp
			b.payoutIn(t, "u-1", account, tc.speed, tc.cents, tc.given, key(2)).decode(t, &p2)
			require.Equal(t, before-total, b.srv.Balance())
			require.NoError(t, b.srv.Complete(p2.Signature))
			require.NoError(t, b.srv.FailAfterSuccess(p2.Signature))
			require.Equal(t, before-total, b.srv.Balance())
			require.NoError(t, b.srv.ReturnComplete(p2.Signature))
			require.Equal(t, before, b.srv.Balance())

			b.wait(t)
			envs := b.hook.envelopes(t)
			require.Equal(t, []string{"Withdraw Pending", "Withdraw Failure", "Withdraw Pending", "Withdraw Success", "Withdraw Failure"}, eventTypes(envs))
			for _, env := range envs {
				require.Equal(t, money{tc.cents, tc.cur}, env.Data.Total, env.EventType)
				require.Equal(t, tc.cur, env.Data.Currency)
				require.Equal(t, money{tc.fee, "USD"}, env.Data.MerchantFees)
				require.Equal(t, "USD", env.Data.UserFees.Currency)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestForeignPayoutRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true, opts: coinflowtest.Options{InitialBalanceCents: 10_899}})
	b.addUser(t, "u-1")
	iban := b.saveDest(t, "u-1", "/withdraw/iban", map[string]any{"number": "DE89370400440532013000", "bic": "COBADEFF"})
	pix := b.saveDest(t, "u-1", "/withdraw/pix", map[string]any{"pixKey": "k"})
	for _, tc := range []struct {
		name, account, speed, currency string
		status                         int
		msg                            string
	}{
		{"USD to a EUR IBAN", iban, "iban", "USD", 400, "amount.currency must be EUR, the currency of this account"},
		{"EUR to a USD bank account", "bnk_u-1", "asap", "EUR", 400, "amount.currency must be USD, the currency of this account"},
		{"GBP to a BRL PIX key", pix, "pix", "GBP", 400, "amount.currency must be BRL, the currency of this account"},
		{"not a currency code", pix, "pix", "brl", 400, "amount.currency must be an ISO 4217 code"},
		{"one cent short", iban, "iban", "EUR", 402, "Insufficient funds"}, // 10_000 EUR cents cost 10_900 USD cents
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := b.quote(t, "u-1", tc.account, tc.speed, 10_000, tc.currency)
			if tc.status == 400 {
				require.Equal(t, 400, q.Status, "%s", q.Body)
				require.Equal(t, tc.msg, q.msg(t))
			} else {
				require.Equal(t, 200, q.Status, "%s", q.Body)
			}
			r := b.payoutIn(t, "u-1", tc.account, tc.speed, 10_000, tc.currency, key(1))
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			require.Equal(t, tc.msg, r.msg(t))
		})
	}
	require.Zero(t, b.srv.PayoutsCreated())
	require.Equal(t, int64(10_899), b.srv.Balance())
	b.srv.SetBalance(10_900)
	r := b.payoutIn(t, "u-1", iban, "iban", 10_000, "EUR", key(1))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Zero(t, b.srv.Balance())
}

func TestCreateWithdrawPricesLikeAPayout(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true, opts: coinflowtest.Options{InitialBalanceCents: 100_000}})
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-gb", Country: "GB", IBANToken: "iban_gb", PIXToken: "pix_gb"})
	require.NoError(t, err)

	w, err := b.srv.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "u-gb", Account: "iban_gb", Speed: "iban", AmountCents: 10_000, NoWebhooks: true})
	require.NoError(t, err)
	require.Equal(t, "GBP", w.Currency, "a GB withdrawer's IBAN is paid in GBP")
	require.Equal(t, "1.27", w.ExchangeRate)
	require.Equal(t, int64(12_700+100), w.DebitCents)
	require.Equal(t, int64(100_000-12_800), b.srv.Balance())

	// The NACHA rule is about dollars: a BRL amount above it stays same_day.
	w, err = b.srv.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "u-gb", Account: "pix_gb", Speed: "same_day", AmountCents: 200_000_000, NoDebit: true, NoWebhooks: true})
	require.NoError(t, err)
	require.Equal(t, "BRL", w.Currency)
	require.Equal(t, "same_day", w.EffectiveSpeed)

	failed, err := b.srv.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "u-gb", Account: "pix_gb", Speed: "pix", AmountCents: 1_000, Status: "failed", NoWebhooks: true,
		CreatedAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Equal(t, int64(180+50), failed.DebitCents)
	require.Equal(t, int64(100_000-12_800), b.srv.Balance(), "a failed seeded withdraw is refunded")
}

func TestExchangeRatesMustBeDecimals(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"abc", "1/3", "-1", "0", "0.000", "1e2", ".5", "1.", ""} {
		require.Panics(t, func() {
			coinflowtest.New(coinflowtest.Options{ExchangeRates: map[string]string{"EUR": bad}}).Close()
		}, "%q", bad)
	}
	e := coinflowtest.New(coinflowtest.Options{ExchangeRates: map[string]string{"CAD": "0.73"}})
	e.Close()
}
