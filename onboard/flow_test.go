package onboard_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/flowtest"
	"github.com/payoutd/payoutd/models"
)

func TestUSWithdrawerIsPaidAtEverySpeed(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		a := f.Register(flowtest.USRegistration("u-us"), http.StatusCreated)
		require.Equal(t, "approved", flowtest.Str(a, "verification_status"))
		require.Nil(t, a["verification_link"])
		require.Equal(t, "US", flowtest.Str(a, "country"))
		require.Equal(t, "USD", flowtest.Str(a, "payout_currency"))

		bank := f.SaveBank("u-us")
		require.Equal(t, "bank_account", flowtest.Str(bank, "type"))
		require.Equal(t, "USD", flowtest.Str(bank, "currency"))
		require.Equal(t, "6789", flowtest.Str(bank, "last4"))
		require.ElementsMatch(t, []any{"asap", "same_day", "standard"}, bank["speeds"])
		card := f.Save("u-us", map[string]any{"type": "card", "card_token": "tok_visa_4242", "exp_month": "09", "exp_year": "31"})
		require.Equal(t, []any{"card"}, card["speeds"])

		status, q := f.Call(http.MethodPost, "/api/v1/quotes", map[string]any{"user_id": "u-us", "amount": flowtest.Money(25_000, "USD"), "account": flowtest.Str(bank, "token")})
		require.Equal(t, http.StatusOK, status, "%v", q)
		quotes := q["quotes"].([]any)
		require.Len(t, quotes, 3)
		for _, e := range quotes {
			entry := e.(map[string]any)
			require.Equal(t, flowtest.Money(25_000, "USD"), flowtest.ToMoney(entry["user_receives"]), entry["speed"])
			debit := flowtest.ToMoney(entry["wallet_debit"])
			require.Equal(t, "USD", debit["currency"])
			require.Greater(t, debit["cents"], int64(25_000), "the debit includes the merchant fee")
			require.NotNil(t, entry["expected_delivery_at"])
			require.Positive(t, flowtest.ToMoney(entry["limit"])["cents"])
		}

		for _, speed := range []string{"asap", "same_day", "standard"} {
			p := f.Pay("u-us", 25_000, "USD", speed, flowtest.Str(bank, "token"))
			require.Equal(t, speed, flowtest.Str(p, "effective_speed"))
			require.Equal(t, "USD", flowtest.ToMoney(p["wallet_debit"])["currency"])
		}
		f.Pay("u-us", 4_999, "USD", "card", flowtest.Str(card, "token"))
		f.Settle()
		require.Equal(t, 4, f.Emu.PayoutsCreated())
	})
}

func TestGermanWithdrawerVerifiesByWebhookAndIsPaidInEUR(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		a := f.Register(map[string]any{"user_id": "u-de", "email": "greta@example.de", "country": "DE"}, http.StatusAccepted)
		require.Equal(t, "pending", flowtest.Str(a, "verification_status"))
		require.Equal(t, "EUR", flowtest.Str(a, "payout_currency"))
		link := flowtest.Str(a, "verification_link")
		require.Contains(t, link, f.Emu.URL, "the link is the emulator's hosted page")

		status, e := f.Call(http.MethodPost, "/api/v1/withdrawers/u-de/destinations", map[string]any{
			"type": "iban", "iban": "DE89370400440532013000", "account_holder": "Greta Example",
		})
		require.Equal(t, http.StatusConflict, status)
		require.Equal(t, "verification_required", flowtest.ErrorCode(e))

		f.CompleteAtLink(link, true)
		f.Settle() // KYC Success
		status, a = f.Call(http.MethodGet, "/api/v1/withdrawers/u-de", nil)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "approved", flowtest.Str(a, "verification_status"), "seen by webhook")
		require.Nil(t, a["verification_link"], "no link once verification ended")

		ibanCalls := f.Emu.Calls(coinflowtest.OpAddIBAN)
		status, e = f.Call(http.MethodPost, "/api/v1/withdrawers/u-de/destinations", map[string]any{
			"type": "iban", "iban": "DE89 3704 0044 0532 0130 00", "account_holder": "Greta Example",
		})
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Equal(t, "bic_required", flowtest.ErrorCode(e))
		require.Equal(t, ibanCalls+1, f.Emu.Calls(coinflowtest.OpAddIBAN), "Coinflow asked for the BIC")
		dests, err := store.DestinationsOf(t.Context(), "u-de")
		require.NoError(t, err)
		require.Empty(t, dests, "nothing saved")

		iban := f.Save("u-de", map[string]any{
			"type": "iban", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Greta Example",
		})
		require.Equal(t, "EUR", flowtest.Str(iban, "currency"))
		require.Equal(t, "3000", flowtest.Str(iban, "last4"))
		require.Equal(t, []any{"iban"}, iban["speeds"])

		p := f.Pay("u-de", 10_000, "EUR", "iban", flowtest.Str(iban, "token"))
		require.Equal(t, flowtest.Money(10_000, "EUR"), flowtest.ToMoney(p["amount"]))
		debit := flowtest.ToMoney(p["wallet_debit"])
		require.Equal(t, "USD", debit["currency"])
		w, ok := f.Emu.Withdraw(flowtest.Str(p["coinflow"].(map[string]any), "transaction"))
		require.True(t, ok)
		require.Equal(t, "EUR", w.Currency)
		f.Settle()
	})
}

func TestGermanWithdrawerVerifiedByPollingWhenWebhooksAreLost(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		f.Emu.SetWebhookURL("") // every webhook from here on is lost
		a := f.Register(map[string]any{"user_id": "u-de", "email": "greta@example.de", "country": "DE"}, http.StatusAccepted)
		f.CompleteAtLink(flowtest.Str(a, "verification_link"), true)
		f.Srv.Drain(t)
		w, err := store.WithdrawerGet(t.Context(), "u-de")
		require.NoError(t, err)
		require.Equal(t, models.VerificationPending, w.VerificationStatus, "no webhook arrived")

		res, err := f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.Zero(t, res.Calls, "the first check is not due yet")
		f.Advance(time.Minute)
		res, err = f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Changed)
		require.EqualValues(t, 0, res.LookedUp, "the list answered: no per-user call")
		w, err = store.WithdrawerGet(t.Context(), "u-de")
		require.NoError(t, err)
		require.Equal(t, models.VerificationApproved, w.VerificationStatus, "seen by polling")
		require.Nil(t, w.VerificationLink)

		f.Advance(time.Hour)
		res, err = f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 0, res.Calls, "nobody pending: Coinflow is not asked")
	})
}

func TestBrazilianWithdrawerIsPaidInBRLByPIX(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		a := f.Register(map[string]any{"user_id": "u-br", "email": "joao@example.com.br", "country": "BR"}, http.StatusAccepted)
		require.Equal(t, "BRL", flowtest.Str(a, "payout_currency"))
		f.CompleteAtLink(flowtest.Str(a, "verification_link"), true)
		f.Settle()
		pix := f.Save("u-br", map[string]any{"type": "pix", "key": "joao@example.com.br"})
		require.Equal(t, "BRL", flowtest.Str(pix, "currency"))
		require.Equal(t, []any{"pix"}, pix["speeds"])
		p := f.Pay("u-br", 50_000, "BRL", "pix", flowtest.Str(pix, "token"))
		require.Equal(t, flowtest.Money(50_000, "BRL"), flowtest.ToMoney(p["amount"]))
		f.Settle()
	})
}

// TestForeignPayoutsReportAndReconcileInUSD pays EUR and BRL beside USD,
// lets them complete, and requires the report to give each currency's
// total with the USD debits, and reconciliation to explain the wallet.
func TestForeignPayoutsReportAndReconcileInUSD(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		run, err := f.Rec.RunOnce(t.Context(), "test")
		require.NoError(t, err)
		require.Equal(t, models.RunOK, run.Outcome)

		f.Register(flowtest.USRegistration("u-us"), http.StatusCreated)
		bank := f.SaveBank("u-us")
		f.ApproveGerman("u-de", true)
		iban := f.Save("u-de", map[string]any{"type": "iban", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Greta"})
		a := f.Register(map[string]any{"user_id": "u-br", "email": "joao@example.com.br", "country": "BR"}, http.StatusAccepted)
		f.CompleteAtLink(flowtest.Str(a, "verification_link"), true)
		f.Settle()
		pix := f.Save("u-br", map[string]any{"type": "pix", "key": "+5511999998888"})

		f.Advance(time.Minute)
		f.Pay("u-us", 30_000, "USD", "asap", flowtest.Str(bank, "token"))
		f.Pay("u-de", 12_345, "EUR", "iban", flowtest.Str(iban, "token"))
		f.Pay("u-de", 20_000, "EUR", "iban", flowtest.Str(iban, "token"))
		f.Pay("u-br", 99_900, "BRL", "pix", flowtest.Str(pix, "token"))
		f.Settle()
		f.Advance(48 * time.Hour)
		f.Settle()

		run, err = f.Rec.RunOnce(t.Context(), "test")
		require.NoError(t, err)
		require.Equal(t, models.RunOK, run.Outcome, "%v", run.Problems)
		findings, _, err := store.FindingList(t.Context(), models.FindingFilter{Status: models.FindingOpen})
		require.NoError(t, err)
		for _, fd := range findings {
			require.NotEqual(t, models.KindWalletDrift, fd.Kind, "%v", fd.Details)
			require.NotEqual(t, models.KindWalletLowBalance, fd.Kind, "%v", fd.Details)
			require.NotEqual(t, models.KindWebhookUnprocessable, fd.Kind, "every webhook was understood: %v", fd.Details)
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

		status, rep := f.Call(http.MethodGet, "/api/v1/reports/summary?from=2026-03-01&to=2026-03-31", nil)
		require.Equal(t, http.StatusOK, status, "%v", rep)
		requireReportCurrencies(t, rep, map[string]int64{"USD": 30_000, "EUR": 32_345, "BRL": 99_900})
	})
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
		d := flowtest.ToMoney(r["debited"])
		require.Equal(t, "USD", d["currency"])
		require.Positive(t, d["cents"].(int64))
		sum += d["cents"].(int64)
	}
	for c := range want {
		require.True(t, seen[c], "USD debits of the %s payouts", c)
	}
	total := flowtest.ToMoney(debits["total"].(map[string]any)["debited"])
	require.Equal(t, flowtest.Money(sum, "USD"), total)
}
