package onboard_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/models"
)

// register registers a withdrawer and requires the status.
func (f *flow) register(body map[string]any, want int) map[string]any {
	f.t.Helper()
	status, a := f.call(http.MethodPost, "/api/v1/withdrawers", body)
	require.Equal(f.t, want, status, "register: %v", a)
	return a
}

// save saves a destination and requires 201.
func (f *flow) save(user string, body map[string]any) map[string]any {
	f.t.Helper()
	status, a := f.call(http.MethodPost, "/api/v1/withdrawers/"+user+"/destinations", body)
	require.Equal(f.t, http.StatusCreated, status, "save destination: %v", a)
	return a
}

// pay pays and requires 201 pending.
func (f *flow) pay(user string, cents int64, currency, speed, account string) map[string]any {
	f.t.Helper()
	status, a := f.call(http.MethodPost, "/api/v1/payouts", map[string]any{
		"user_id": user, "amount": money(cents, currency), "speed": speed, "account": account,
	})
	require.Equal(f.t, http.StatusCreated, status, "pay: %v", a)
	require.Equal(f.t, "pending", str(a, "status"))
	return a
}

// approveGerman registers a German withdrawer, requires 202 with a link,
// and has the person complete verification at that link.
func (f *flow) approveGerman(user string, deliver bool) {
	f.t.Helper()
	a := f.register(map[string]any{"user_id": user, "email": user + "@example.de", "country": "DE"}, http.StatusAccepted)
	require.Equal(f.t, "pending", str(a, "verification_status"))
	link := str(a, "verification_link")
	require.NotEmpty(f.t, link)
	f.completeAtLink(link, true)
	if deliver {
		f.settle()
	}
}

func TestUSWithdrawerIsPaidAtEverySpeed(t *testing.T) {
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := newFlow(t, store, clock, flowOptions{})
		a := f.register(usRegistration("u-us"), http.StatusCreated)
		require.Equal(t, "approved", str(a, "verification_status"))
		require.Nil(t, a["verification_link"])
		require.Equal(t, "US", str(a, "country"))
		require.Equal(t, "USD", str(a, "payout_currency"))

		bank := f.saveBank("u-us")
		require.Equal(t, "bank_account", str(bank, "type"))
		require.Equal(t, "USD", str(bank, "currency"))
		require.Equal(t, "6789", str(bank, "last4"))
		require.ElementsMatch(t, []any{"asap", "same_day", "standard"}, bank["speeds"])
		card := f.save("u-us", map[string]any{"type": "card", "card_token": "tok_visa_4242", "exp_month": "09", "exp_year": "31"})
		require.Equal(t, []any{"card"}, card["speeds"])

		status, q := f.call(http.MethodPost, "/api/v1/quotes", map[string]any{"user_id": "u-us", "amount": money(25_000, "USD"), "account": str(bank, "token")})
		require.Equal(t, http.StatusOK, status, "%v", q)
		quotes := q["quotes"].([]any)
		require.Len(t, quotes, 3)
		for _, e := range quotes {
			entry := e.(map[string]any)
			require.Equal(t, money(25_000, "USD"), toMoney(entry["user_receives"]), entry["speed"])
			debit := toMoney(entry["wallet_debit"])
			require.Equal(t, "USD", debit["currency"])
			require.Greater(t, debit["cents"], int64(25_000), "the debit includes the merchant fee")
			require.NotNil(t, entry["expected_delivery_at"])
			require.Positive(t, toMoney(entry["limit"])["cents"])
		}

		for _, speed := range []string{"asap", "same_day", "standard"} {
			p := f.pay("u-us", 25_000, "USD", speed, str(bank, "token"))
			require.Equal(t, speed, str(p, "effective_speed"))
			require.Equal(t, "USD", toMoney(p["wallet_debit"])["currency"])
		}
		f.pay("u-us", 4_999, "USD", "card", str(card, "token"))
		f.settle()
		require.Equal(t, 4, f.emu.PayoutsCreated())
	})
}

func TestGermanWithdrawerVerifiesByWebhookAndIsPaidInEUR(t *testing.T) {
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := newFlow(t, store, clock, flowOptions{})
		a := f.register(map[string]any{"user_id": "u-de", "email": "greta@example.de", "country": "DE"}, http.StatusAccepted)
		require.Equal(t, "pending", str(a, "verification_status"))
		require.Equal(t, "EUR", str(a, "payout_currency"))
		link := str(a, "verification_link")
		require.Contains(t, link, f.emu.URL, "the link is the emulator's hosted page")

		status, e := f.call(http.MethodPost, "/api/v1/withdrawers/u-de/destinations", map[string]any{
			"type": "iban", "iban": "DE89370400440532013000", "account_holder": "Greta Example",
		})
		require.Equal(t, http.StatusConflict, status)
		require.Equal(t, "verification_required", errorCode(e))

		f.completeAtLink(link, true)
		f.settle() // KYC Success
		status, a = f.call(http.MethodGet, "/api/v1/withdrawers/u-de", nil)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "approved", str(a, "verification_status"), "seen by webhook")
		require.Nil(t, a["verification_link"], "no link once verification ended")

		ibanCalls := f.emu.Calls(coinflowtest.OpAddIBAN)
		status, e = f.call(http.MethodPost, "/api/v1/withdrawers/u-de/destinations", map[string]any{
			"type": "iban", "iban": "DE89 3704 0044 0532 0130 00", "account_holder": "Greta Example",
		})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Equal(t, "bic_required", errorCode(e))
		require.Equal(t, ibanCalls+1, f.emu.Calls(coinflowtest.OpAddIBAN), "Coinflow asked for the BIC")
		dests, err := store.DestinationsOf(t.Context(), "u-de")
		require.NoError(t, err)
		require.Empty(t, dests, "nothing saved")

		iban := f.save("u-de", map[string]any{
			"type": "iban", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Greta Example",
		})
		require.Equal(t, "EUR", str(iban, "currency"))
		require.Equal(t, "3000", str(iban, "last4"))
		require.Equal(t, []any{"iban"}, iban["speeds"])

		p := f.pay("u-de", 10_000, "EUR", "iban", str(iban, "token"))
		require.Equal(t, money(10_000, "EUR"), toMoney(p["amount"]))
		debit := toMoney(p["wallet_debit"])
		require.Equal(t, "USD", debit["currency"])
		w, ok := f.emu.Withdraw(str(p["coinflow"].(map[string]any), "transaction"))
		require.True(t, ok)
		require.Equal(t, "EUR", w.Currency)
		f.settle()
	})
}

func TestGermanWithdrawerVerifiedByPollingWhenWebhooksAreLost(t *testing.T) {
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := newFlow(t, store, clock, flowOptions{})
		f.emu.SetWebhookURL("") // every webhook from here on is lost
		a := f.register(map[string]any{"user_id": "u-de", "email": "greta@example.de", "country": "DE"}, http.StatusAccepted)
		f.completeAtLink(str(a, "verification_link"), true)
		f.srv.Drain(t)
		w, err := store.WithdrawerGet(t.Context(), "u-de")
		require.NoError(t, err)
		require.Equal(t, models.VerificationPending, w.VerificationStatus, "no webhook arrived")

		res, err := f.follower.Sweep(t.Context())
		require.NoError(t, err)
		require.Zero(t, res.Calls, "the first check is not due yet")
		f.advance(time.Minute)
		res, err = f.follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Changed)
		require.EqualValues(t, 0, res.LookedUp, "the list answered: no per-user call")
		w, err = store.WithdrawerGet(t.Context(), "u-de")
		require.NoError(t, err)
		require.Equal(t, models.VerificationApproved, w.VerificationStatus, "seen by polling")
		require.Nil(t, w.VerificationLink)

		f.advance(time.Hour)
		res, err = f.follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 0, res.Calls, "nobody pending: Coinflow is not asked")
	})
}

func TestBrazilianWithdrawerIsPaidInBRLByPIX(t *testing.T) {
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := newFlow(t, store, clock, flowOptions{})
		a := f.register(map[string]any{"user_id": "u-br", "email": "joao@example.com.br", "country": "BR"}, http.StatusAccepted)
		require.Equal(t, "BRL", str(a, "payout_currency"))
		f.completeAtLink(str(a, "verification_link"), true)
		f.settle()
		pix := f.save("u-br", map[string]any{"type": "pix", "key": "joao@example.com.br"})
		require.Equal(t, "BRL", str(pix, "currency"))
		require.Equal(t, []any{"pix"}, pix["speeds"])
		p := f.pay("u-br", 50_000, "BRL", "pix", str(pix, "token"))
		require.Equal(t, money(50_000, "BRL"), toMoney(p["amount"]))
		f.settle()
	})
}

// TestForeignPayoutsReportAndReconcileInUSD pays EUR and BRL beside USD,
// lets them complete, and requires the report to give each currency's
// total with the USD debits, and reconciliation to explain the wallet.
func TestForeignPayoutsReportAndReconcileInUSD(t *testing.T) {
	dbtest.EachAt(t, start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := newFlow(t, store, clock, flowOptions{})
		run, err := f.rec.RunOnce(t.Context(), "test")
		require.NoError(t, err)
		require.Equal(t, models.RunOK, run.Outcome)

		f.register(usRegistration("u-us"), http.StatusCreated)
		bank := f.saveBank("u-us")
		f.approveGerman("u-de", true)
		iban := f.save("u-de", map[string]any{"type": "iban", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Greta"})
		a := f.register(map[string]any{"user_id": "u-br", "email": "joao@example.com.br", "country": "BR"}, http.StatusAccepted)
		f.completeAtLink(str(a, "verification_link"), true)
		f.settle()
		pix := f.save("u-br", map[string]any{"type": "pix", "key": "+5511999998888"})

		f.advance(time.Minute)
		f.pay("u-us", 30_000, "USD", "asap", str(bank, "token"))
		f.pay("u-de", 12_345, "EUR", "iban", str(iban, "token"))
		f.pay("u-de", 20_000, "EUR", "iban", str(iban, "token"))
		f.pay("u-br", 99_900, "BRL", "pix", str(pix, "token"))
		f.settle()
		f.advance(48 * time.Hour)
		f.settle()

		run, err = f.rec.RunOnce(t.Context(), "test")
		require.NoError(t, err)
		require.Equal(t, models.RunOK, run.Outcome, "%v", run.Problems)
		findings, _, err := store.FindingList(t.Context(), models.FindingFilter{Status: models.FindingOpen})
		require.NoError(t, err)
		for _, fd := range findings {
			require.NotEqual(t, models.KindWalletDrift, fd.Kind, "%v", fd.Details)
			require.NotEqual(t, models.KindWalletLowBalance, fd.Kind, "%v", fd.Details)
		}
		for _, p := range []string{"u-de", "u-br"} {
			ps, _, err := store.PayoutList(t.Context(), models.PayoutFilter{UserID: p})
			require.NoError(t, err)
			for _, payout := range ps {
				require.Equal(t, models.StatusCompleted, payout.Status)
				require.NotNil(t, payout.WalletDebitCents, "priced")
				require.NotNil(t, payout.ExchangeRate, "the rate Coinflow used, from its record")
			}
		}

		status, rep := f.call(http.MethodGet, "/api/v1/reports/summary?from=2026-03-01&to=2026-03-31", nil)
		require.Equal(t, http.StatusOK, status, "%v", rep)
		requireReportCurrencies(t, rep, map[string]int64{"USD": 30_000, "EUR": 32_345, "BRL": 99_900})
	})
}

func toMoney(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return nil
	}
	out := map[string]any{"currency": m["currency"]}
	if c, ok := m["cents"].(float64); ok {
		out["cents"] = int64(c)
	}
	return out
}

// requireReportCurrencies requires the summary's payout totals to be
// exactly want, per currency, and a USD wallet debit for each currency,
// priced in full, with the debits adding up to the total debited.
func requireReportCurrencies(t *testing.T, rep map[string]any, want map[string]int64) {
	t.Helper()
	got := map[string]int64{}
	for _, row := range rep["payouts"].(map[string]any)["totals"].([]any) {
		r := row.(map[string]any)
		got[r["currency"].(string)] = int64(r["cents"].(float64))
	}
	require.Equal(t, want, got, "payout totals per currency, never added across")
	debits := rep["wallet_debits"].(map[string]any)
	var sum int64
	seen := map[string]bool{}
	for _, row := range debits["totals"].([]any) {
		r := row.(map[string]any)
		seen[r["currency"].(string)] = true
		require.EqualValues(t, 0, r["unpriced"], "every payout priced in USD: %v", r)
		d := toMoney(r["debited"])
		require.Equal(t, "USD", d["currency"])
		require.Positive(t, d["cents"].(int64))
		sum += d["cents"].(int64)
	}
	for c := range want {
		require.True(t, seen[c], "USD debits of the %s payouts", c)
	}
	total := toMoney(debits["total"].(map[string]any)["debited"])
	require.Equal(t, money(sum, "USD"), total)
}
