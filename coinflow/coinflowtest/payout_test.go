package coinflowtest_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

func TestPayoutDebitsAmountPlusFee(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{opts: coinflowtest.Options{InitialBalanceCents: 100_000}})
	b.addUser(t, "u-1")

	p := b.mustPayout(t, "u-1", "bnk_u-1", "same_day", 25_000, key(1))
	require.Len(t, p.Signature, 88)
	require.Equal(t, "same_day", p.EffectiveSpeed)
	require.Equal(t, int64(100_000-25_000-150), b.srv.Balance())

	r := b.call(t, http.MethodGet, "/merchant/withdraws/payout/balance", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.JSONEq(t, `{"balance":{"cents":74850}}`, string(r.Body))

	w := b.withdraw(t, p.Signature)
	require.Equal(t, "pending", w["status"])
	require.Equal(t, key(1), w["idempotencyKey"])
	require.Equal(t, map[string]any{"cents": 25000.0, "currency": "USD"}, w["amount"])
	require.Equal(t, 150.0, w["merchantPaidFees"].(map[string]any)["fees"].(map[string]any)["cents"])
	require.Equal(t, "2025-06-02T14:00:00.000Z", w["createdAt"])
	require.Equal(t, "2025-06-02T21:00:00.000Z", w["expectedDeliveryDate"])
	// The single get takes the transferId as well.
	require.Equal(t, p.Signature, b.withdraw(t, w["transferId"].(string))["transaction"])
	require.Equal(t, 1, b.srv.PayoutsCreated())
	require.Equal(t, 1, b.srv.Calls(coinflowtest.OpPayout))
}

func TestPayoutInsufficientFundsCreatesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{opts: coinflowtest.Options{InitialBalanceCents: 25_149}})
	b.addUser(t, "u-1")

	r := b.payout(t, "u-1", "bnk_u-1", "same_day", 25_000, key(1))
	require.Equal(t, http.StatusPaymentRequired, r.Status)
	require.JSONEq(t, `{"msg":"Insufficient funds"}`, string(r.Body))
	require.Equal(t, int64(25_149), b.srv.Balance())
	require.Empty(t, b.srv.Withdraws())
	require.Zero(t, b.srv.PayoutsCreated())

	// The refusal is not remembered: the same key succeeds once funded.
	b.srv.SetBalance(25_150)
	b.mustPayout(t, "u-1", "bnk_u-1", "same_day", 25_000, key(1))
	require.Zero(t, b.srv.Balance())
}

func TestFailureAndReturnCreditBalance(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{opts: coinflowtest.Options{InitialBalanceCents: 100_000}})
	b.addUser(t, "u-1")
	failed := b.mustPayout(t, "u-1", "crd_u-1", "card", 4_999, key(1))
	returned := b.mustPayout(t, "u-1", "bnk_u-1", "standard", 10_000, key(2))
	require.Equal(t, int64(100_000-4_999-99-10_000-50), b.srv.Balance())

	require.NoError(t, b.srv.Fail(failed.Signature, "Card is not eligible for disbursements"))
	require.Equal(t, int64(100_000-10_000-50), b.srv.Balance())
	w := b.withdraw(t, failed.Signature)
	require.Equal(t, "failed", w["status"])
	require.Equal(t, "return_completed", w["returnStatus"])
	require.Equal(t, "Card is not eligible for disbursements", w["detailMessage"])
	require.Len(t, w["returnTransaction"], 88)

	b.srv.Advance(48 * time.Hour)
	require.Equal(t, "completed", b.withdraw(t, returned.Signature)["status"])
	require.NoError(t, b.srv.FailAfterSuccess(returned.Signature))
	w = b.withdraw(t, returned.Signature)
	require.Equal(t, "failed", w["status"])
	require.Equal(t, "pending_return", w["returnStatus"])
	require.Equal(t, int64(100_000-10_000-50), b.srv.Balance(), "no credit before the return completes")

	require.NoError(t, b.srv.ReturnComplete(returned.Signature))
	require.Equal(t, int64(100_000), b.srv.Balance())
	require.Equal(t, "return_completed", b.withdraw(t, returned.Signature)["returnStatus"])

	require.ErrorIs(t, b.srv.ReturnComplete(returned.Signature), coinflowtest.ErrInvalidTransition)
	require.ErrorIs(t, b.srv.Fail(returned.Signature, "again"), coinflowtest.ErrInvalidTransition)
	require.ErrorIs(t, b.srv.Complete("nope"), coinflowtest.ErrNotFound)

	b.wait(t)
	require.Equal(t, []string{
		"Withdraw Pending", "Withdraw Pending", "Withdraw Failure", "Withdraw Success", "Withdraw Failure",
	}, eventTypes(b.hook.envelopes(t)))
}

func TestNACHADowngrade(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{opts: coinflowtest.Options{InitialBalanceCents: 300_000_000}})
	b.addUser(t, "u-1")

	at := b.mustPayout(t, "u-1", "bnk_u-1", "same_day", 100_000_000, key(1))
	require.Equal(t, "same_day", at.EffectiveSpeed, "the limit itself is allowed")
	over := b.mustPayout(t, "u-1", "bnk_u-1", "same_day", 125_000_000, key(2))
	require.Equal(t, "standard", over.EffectiveSpeed)

	w, ok := b.srv.Withdraw(over.Signature)
	require.True(t, ok)
	require.Equal(t, "same_day", w.RequestedSpeed)
	require.Equal(t, "standard", w.EffectiveSpeed)
	require.Equal(t, int64(50), w.MerchantFeeCents, "the fee of the speed it went out at")
	require.Equal(t, "standard", b.withdraw(t, over.Signature)["speed"])
	require.Equal(t, w.CreatedAt.Add(48*time.Hour), w.ExpectedDeliveryDate)
}

func TestSetDowngrade(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")

	b.srv.SetDowngrade("asap", "same_day")
	p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(1))
	require.Equal(t, "same_day", p.EffectiveSpeed)
	require.Equal(t, "card", b.mustPayout(t, "u-1", "crd_u-1", "card", 1_000, key(2)).EffectiveSpeed)

	var q struct {
		MerchantFees money `json:"merchantFees"`
	}
	b.call(t, http.MethodPost, "/merchant/withdraws/payout/delegated/quote", map[string]any{
		"speed": "asap", "account": "bnk_u-1", "userId": "u-1", "amount": map[string]any{"cents": 1000},
	}).decode(t, &q)
	require.Equal(t, int64(150), q.MerchantFees.Cents, "the quote prices the downgraded speed")

	b.srv.SetDowngrade("asap", "")
	require.Equal(t, "asap", b.mustPayout(t, "u-1", "bnk_u-1", "asap", 1_000, key(3)).EffectiveSpeed)
}

func TestIdempotentReplay(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")

	first := b.payout(t, "u-1", "bnk_u-1", "same_day", 25_000, key(1))
	require.Equal(t, http.StatusOK, first.Status)
	balance := b.srv.Balance()
	// Even with a different body, the key answers the first result.
	again := b.payout(t, "u-1", "bnk_u-1", "asap", 99, key(1))
	require.Equal(t, http.StatusOK, again.Status)
	require.Equal(t, string(first.Body), string(again.Body))
	require.Equal(t, balance, b.srv.Balance())
	require.Equal(t, 1, b.srv.PayoutsCreated())
	require.Len(t, b.srv.Withdraws(), 1)
	require.Equal(t, 2, b.srv.Calls(coinflowtest.OpPayout))

	// A replay is answered even once the withdrawer is blocked.
	require.NoError(t, b.srv.SetBlocked("u-1", true))
	require.Equal(t, string(first.Body), string(b.payout(t, "u-1", "bnk_u-1", "same_day", 25_000, key(1)).Body))
}

func TestConcurrentIdenticalPayoutsPayOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	before := b.srv.Balance()

	const n = 20
	sigs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := b.payout(t, "u-1", "bnk_u-1", "same_day", 25_000, key(7))
			if r.Status == http.StatusOK {
				var p payoutResp
				r.decode(t, &p)
				sigs[i] = p.Signature
			}
		})
	}
	wg.Wait()
	require.Equal(t, 1, b.srv.PayoutsCreated())
	require.Equal(t, n, b.srv.Calls(coinflowtest.OpPayout))
	for _, s := range sigs {
		require.Equal(t, sigs[0], s)
	}
	require.NotEmpty(t, sigs[0])
	require.Equal(t, before-25_150, b.srv.Balance())
	b.wait(t)
	require.Len(t, b.hook.all(), 1, "one Withdraw Pending")
}

func TestPayoutRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-pending", Verification: "pending", BankToken: "bnk_p"})
	require.NoError(t, err)
	_, err = b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-blocked", Blocked: true, BankToken: "bnk_b"})
	require.NoError(t, err)
	_, err = b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-1"})
	require.ErrorIs(t, err, coinflowtest.ErrExists)
	require.Equal(t, "User is blocked", b.payout(t, "u-blocked", "bnk_b", "asap", 10, "kb").msg(t))

	post := func(body string) response {
		return b.call(t, http.MethodPost, "/merchant/withdraws/payout/delegated", body)
	}
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"not json", `{`, 400},
		{"no key", `{"speed":"asap","account":"bnk_u-1","userId":"u-1","amount":{"cents":1}}`, 400},
		{"bad speed", `{"idempotencyKey":"k","speed":"fast","account":"bnk_u-1","userId":"u-1","amount":{"cents":1}}`, 400},
		{"no amount", `{"idempotencyKey":"k","speed":"asap","account":"bnk_u-1","userId":"u-1"}`, 400},
		{"fractional cents", `{"idempotencyKey":"k","speed":"asap","account":"bnk_u-1","userId":"u-1","amount":{"cents":10.5}}`, 400},
		{"string cents", `{"idempotencyKey":"k","speed":"asap","account":"bnk_u-1","userId":"u-1","amount":{"cents":"10"}}`, 400},
		{"zero cents", `{"idempotencyKey":"k","speed":"asap","account":"bnk_u-1","userId":"u-1","amount":{"cents":0}}`, 400},
		{"euro", `{"idempotencyKey":"k","speed":"asap","account":"bnk_u-1","userId":"u-1","amount":{"cents":10,"currency":"EUR"}}`, 400},
		{"unknown user", `{"idempotencyKey":"k","speed":"asap","account":"bnk_u-1","userId":"u-x","amount":{"cents":10}}`, 404},
		{"blocked", `{"idempotencyKey":"k","speed":"asap","account":"bnk_b","userId":"u-blocked","amount":{"cents":10}}`, 403},
		{"foreign account", `{"idempotencyKey":"k","speed":"asap","account":"bnk_b","userId":"u-1","amount":{"cents":10}}`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post(tc.body)
			require.Equal(t, tc.status, r.Status, "%s", r.Body)
			require.NotEmpty(t, r.msg(t))
		})
	}

	r := post(`{"idempotencyKey":"k","speed":"asap","account":"bnk_p","userId":"u-pending","amount":{"cents":10}}`)
	require.Equal(t, http.StatusUnavailableForLegalReasons, r.Status)
	var v struct {
		VerificationLink string `json:"verificationLink"`
		Message          string `json:"message"`
	}
	r.decode(t, &v)
	require.NotEmpty(t, v.VerificationLink)
	require.NotEmpty(t, v.Message)

	require.Zero(t, b.srv.PayoutsCreated())
	require.Equal(t, int64(10_000_000), b.srv.Balance())
}

func TestQuote(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	r := b.call(t, http.MethodPost, "/merchant/withdraws/payout/delegated/quote", map[string]any{
		"speed": "same_day", "account": "bnk_u-1", "userId": "u-1", "amount": map[string]any{"cents": 25000, "currency": "USD"},
	})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var q map[string]any
	r.decode(t, &q)
	for _, s := range []string{"asap", "same_day", "standard", "card", "iban", "pix", "eft", "venmo", "paypal", "wire", "interac"} {
		require.Contains(t, q, s)
	}
	sd := q["same_day"].(map[string]any)
	require.Equal(t, 150.0, sd["fee"].(map[string]any)["cents"])
	require.Equal(t, 24850.0, sd["finalSettlement"].(map[string]any)["cents"])
	require.Equal(t, "2025-06-02T21:00:00.000Z", sd["expectedDeliveryDateISO"])
	require.Equal(t, "Unavailable", q["eft"].(map[string]any)["expectedDeliveryDate"])
	require.Equal(t, 100.0, q["iban"].(map[string]any)["fee"].(map[string]any)["cents"], "iban and pix are rails by default")
	require.Equal(t, 50.0, q["pix"].(map[string]any)["fee"].(map[string]any)["cents"])
	require.Equal(t, 25150.0, q["totalMerchantDebit"].(map[string]any)["cents"])
	require.Equal(t, 25000.0, q["userPayout"].(map[string]any)["cents"])
	require.Equal(t, 150.0, q["merchantFees"].(map[string]any)["cents"])
	require.Equal(t, 1, b.srv.Calls(coinflowtest.OpQuote))
	require.Zero(t, b.srv.PayoutsCreated())
}

func TestCreateWithdrawSeedsAndReplays(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.addUser(t, "u-1")
	before := b.srv.Balance()

	w, err := b.srv.CreateWithdraw(coinflowtest.WithdrawSpec{
		UserID: "u-1", AmountCents: 5_000, Speed: "asap", IdempotencyKey: key(9), NoWebhooks: true,
	})
	require.NoError(t, err)
	require.Equal(t, before-5_250, b.srv.Balance())
	require.Equal(t, "bnk_u-1", w.Account)
	require.Zero(t, b.srv.PayoutsCreated())

	// The daemon retrying its key gets the seeded payout back.
	p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 5_000, key(9))
	require.Equal(t, w.Transaction, p.Signature)
	require.Zero(t, b.srv.PayoutsCreated())

	done, err := b.srv.CreateWithdraw(coinflowtest.WithdrawSpec{
		UserID: "u-unknown", AmountCents: 700, Status: "completed", NoDebit: true,
		CreatedAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
	})
	require.NoError(t, err)
	require.Equal(t, "completed", b.withdraw(t, done.TransferID)["status"])
	_, err = b.srv.CreateWithdraw(coinflowtest.WithdrawSpec{UserID: "u-1", AmountCents: 1, IdempotencyKey: key(9)})
	require.ErrorIs(t, err, coinflowtest.ErrExists)

	b.wait(t)
	require.Equal(t, []string{"Withdraw Pending", "Withdraw Success"}, eventTypes(b.hook.envelopes(t)))
	require.Equal(t, []string{done.TransferID, w.TransferID}, []string{b.srv.Withdraws()[0].TransferID, b.srv.Withdraws()[1].TransferID}, "list order is createdAt")
}

func TestSeededIDsAreDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []string {
		b := setup(t, setupOpts{opts: coinflowtest.Options{Seed: 42}, noHook: true})
		w := b.addUser(t, "u-1")
		p := b.mustPayout(t, "u-1", "bnk_u-1", "asap", 100, key(1))
		got, _ := b.srv.Withdraw(p.Signature)
		return []string{w.ID, p.Signature, got.TransferID}
	}
	a, c := run(), run()
	require.Equal(t, a, c)
	require.Regexp(t, `^[0-9a-f]{24}$`, a[0])
	require.Regexp(t, `^[1-9A-HJ-NP-Za-km-z]{88}$`, a[1])
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, a[2])
}

func TestBlockedStatusOption(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{noHook: true, opts: coinflowtest.Options{BlockedStatus: http.StatusUnavailableForLegalReasons}})
	_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-b", Blocked: true, BankToken: "bnk_b"})
	require.NoError(t, err)
	r := b.payout(t, "u-b", "bnk_b", "asap", 10, key(1))
	require.Equal(t, http.StatusUnavailableForLegalReasons, r.Status)
	require.Contains(t, string(r.Body), `"verificationLink"`)
}
