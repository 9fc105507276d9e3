package initiate_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/testserver"
	"github.com/payoutd/payoutd/models"
)

const (
	apiKey    = "emulator-api-key"
	bankToken = "bnk_aBL5aQhuRYNCfiFogfAa5zha"
	cardToken = "crd_h8MKQm17EsCQcsH1g8BwD6op"
)

type bundle struct {
	srv *testserver.Server
	emu *coinflowtest.Server
}

// setup runs payoutd (in-process, real router and store) against the
// emulator, with the emulator's webhooks flowing back into payoutd.
func setup(t *testing.T, store *models.Store) *bundle {
	t.Helper()
	emu := coinflowtest.NewServer(coinflowtest.Options{
		APIKey: apiKey, WebhookKey: testserver.WebhookKey, InitialBalanceCents: 10_000_000_00,
		WebhookRetry: coinflowtest.RetryPolicy{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond, GiveUpAfter: 20 * time.Second},
	})
	t.Cleanup(emu.Close)
	for _, w := range []coinflowtest.WithdrawerSpec{
		{UserID: "u-ok", Verification: "approved", BankToken: bankToken, CardToken: cardToken},
		{UserID: "u-pending", Verification: "pending"},
		{UserID: "u-blocked", Verification: "approved", Blocked: true},
	} {
		_, err := emu.AddWithdrawer(w)
		require.NoError(t, err)
	}
	cf, err := coinflow.New(coinflow.Config{
		BaseURL: emu.URL, APIKey: apiKey, Timeout: 2 * time.Second, MaxAttempts: 3,
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	require.NoError(t, err)
	srv := testserver.Start(t, store, testserver.Options{Coinflow: cf})
	emu.SetWebhookURL(srv.URL + "/webhooks/coinflow")
	return &bundle{srv: srv, emu: emu}
}

// payoutJSON is named so that answer can embed it beside its own Payout.
type payoutJSON = testserver.Payout

type answer struct {
	payoutJSON
	Error *struct {
		Code             string            `json:"code"`
		VerificationLink string            `json:"verification_link"`
		Fields           map[string]string `json:"fields"`
	} `json:"error"`
	Payout *payoutJSON `json:"payout"`
}

func body(user string, cents int64, speed, account, key string) map[string]any {
	b := map[string]any{"user_id": user, "amount": map[string]any{"cents": cents, "currency": "USD"}, "speed": speed, "account": account}
	if key != "" {
		b["idempotency_key"] = key
	}
	return b
}

func (b *bundle) post(t *testing.T, req any) (int, answer) {
	t.Helper()
	var a answer
	status := b.srv.API(t, http.MethodPost, "/api/v1/payouts", req, &a)
	return status, a
}

// settle delivers the emulator's webhooks and applies them.
func (b *bundle) settle(t *testing.T) {
	t.Helper()
	require.NoError(t, b.emu.WaitWebhooks(t.Context()))
	b.srv.Drain(t)
}

func (b *bundle) get(t *testing.T, id string) payoutJSON {
	t.Helper()
	var p payoutJSON
	require.Equal(t, http.StatusOK, b.srv.API(t, http.MethodGet, "/api/v1/payouts/"+id, nil, &p))
	return p
}

func TestInitiateEachSpeedReachesCompleted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		ids := map[string]string{}
		for _, speed := range []string{"asap", "same_day", "standard", "card"} {
			account := bankToken
			if speed == "card" {
				account = cardToken
			}
			status, a := b.post(t, body("u-ok", 25000, speed, account, "key-"+speed))
			require.Equal(t, http.StatusCreated, status, "%s: %+v", speed, a.Error)
			require.Equal(t, "pending", a.Status)
			require.Equal(t, speed, *a.RequestedSpeed)
			require.Equal(t, speed, *a.EffectiveSpeed)
			require.Equal(t, "api", a.Source)
			require.NotNil(t, a.Coinflow.Transaction)
			require.NotNil(t, a.ExpectedDeliveryAt)
			w, ok := b.emu.Withdraw(*a.Coinflow.Transaction)
			require.True(t, ok)
			require.Equal(t, "key-"+speed, w.IdempotencyKey)
			require.Equal(t, w.MerchantFeeCents, a.Fees.Merchant.Cents, "fees recorded from the quote")
			ids[speed] = a.ID
		}
		b.settle(t)
		for speed, id := range ids {
			require.Equal(t, "pending", b.get(t, id).Status, speed)
		}

		b.emu.Advance(72 * time.Hour)
		b.settle(t)
		for speed, id := range ids {
			p := b.get(t, id)
			require.Equal(t, "completed", p.Status, speed)
			var sources []string
			for _, h := range p.History {
				if h.Applied {
					sources = append(sources, h.Source+":"+h.ToStatus)
				}
			}
			require.Equal(t, []string{"api:requested", "api:pending", "webhook:completed"}, sources, speed)
		}
		require.Equal(t, 4, b.emu.PayoutsCreated())
	})
}

func TestSameDayOverNACHALimitComesBackStandard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		status, a := b.post(t, body("u-ok", 125_000_000, "same_day", bankToken, ""))
		require.Equal(t, http.StatusCreated, status)
		require.Equal(t, "same_day", *a.RequestedSpeed)
		require.Equal(t, "standard", *a.EffectiveSpeed)
		require.NotEmpty(t, a.IdempotencyKey, "a key is generated when absent")

		status, a = b.post(t, body("u-ok", 100_000_000, "same_day", bankToken, ""))
		require.Equal(t, http.StatusCreated, status)
		require.Equal(t, "same_day", *a.EffectiveSpeed, "exactly 1,000,000.00 USD is within the limit")
	})
}

func TestRacingDuplicatesPayOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		const n = 12
		var wg sync.WaitGroup
		statuses := make([]int, n)
		ids := make([]string, n)
		for i := range n {
			wg.Go(func() {
				var a answer
				statuses[i] = b.srv.API(t, http.MethodPost, "/api/v1/payouts", body("u-ok", 4200, "asap", bankToken, "race-key"), &a)
				ids[i] = a.ID
			})
		}
		wg.Wait()
		created := 0
		for i := range n {
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, statuses[i])
			if statuses[i] == http.StatusCreated {
				created++
			}
			require.Equal(t, ids[0], ids[i], "every answer is the same payout")
		}
		require.Equal(t, 1, created)
		require.Equal(t, 1, b.emu.PayoutsCreated(), "Coinflow paid once")
		require.Equal(t, 1, b.emu.Calls(coinflowtest.OpPayout), "only the request that recorded the payout called pay")
		var count int64
		require.NoError(t, store.DB().Model(&models.Payout{}).Count(&count).Error)
		require.EqualValues(t, 1, count)
	})
}

func TestLostAnswerIsSettledByTheKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		// Coinflow makes the payout, but no answer reaches payoutd.
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Hang: 30 * time.Second})
		status, a := b.post(t, body("u-ok", 9900, "standard", bankToken, "lost-answer"))
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "coinflow_unavailable", a.Error.Code)
		require.NotNil(t, a.Payout)
		require.Equal(t, "unknown", a.Payout.Status, "the outcome is not known")
		require.Equal(t, 1, b.emu.PayoutsCreated())

		b.emu.ClearAPIFaults()
		status, a = b.post(t, body("u-ok", 9900, "standard", bankToken, "lost-answer"))
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "pending", a.Status)
		w, ok := b.emu.WithdrawByIdempotencyKey("lost-answer")
		require.True(t, ok)
		require.Equal(t, w.Transaction, *a.Coinflow.Transaction, "the replay returned the original payout")
		require.Equal(t, 1, b.emu.PayoutsCreated(), "never paid twice")
	})
}

func TestInterruptedBeforePayIsResumedByTheKey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		// A quote that fails comes before the payout is recorded: nothing
		// is stored, nothing paid.
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpQuote, Status: http.StatusServiceUnavailable})
		status, a := b.post(t, body("u-ok", 1200, "asap", bankToken, "interrupted"))
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Nil(t, a.Payout, "refused before it was recorded")
		_, err := store.PayoutByIdempotencyKey(t.Context(), "interrupted")
		require.ErrorIs(t, err, models.ErrNotFound)

		// Coinflow refusing to look at the pay call (429) leaves the
		// recorded payout requested; the same key resumes it.
		b.emu.ClearAPIFaults()
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Status: http.StatusTooManyRequests})
		status, a = b.post(t, body("u-ok", 1200, "asap", bankToken, "interrupted"))
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "requested", a.Payout.Status, "recorded, never paid")
		require.Equal(t, 0, b.emu.PayoutsCreated())

		b.emu.ClearAPIFaults()
		status, a = b.post(t, body("u-ok", 1200, "asap", bankToken, "interrupted"))
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "pending", a.Status)
		require.Equal(t, 1, b.emu.PayoutsCreated())
	})
}

func TestCoinflowRefusals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)

		status, a := b.post(t, body("u-pending", 1000, "asap", bankToken, "k-verify"))
		require.Equal(t, http.StatusConflict, status)
		require.Equal(t, "verification_required", a.Error.Code)
		require.NotEmpty(t, a.Error.VerificationLink)
		require.Nil(t, a.Payout, "nothing recorded for an unverified withdrawer")

		status, a = b.post(t, body("u-blocked", 1000, "asap", bankToken, "k-blocked"))
		require.Equal(t, http.StatusConflict, status)
		require.Equal(t, "withdrawer_blocked", a.Error.Code)

		status, a = b.post(t, body("u-ok", 1000, "asap", "bnk_not_theirs", "k-account"))
		require.Equal(t, http.StatusUnprocessableEntity, status)
		require.Contains(t, a.Error.Fields, "account")

		// The wallet check comes before anything is recorded or paid.
		b.emu.SetBalance(500)
		status, a = b.post(t, body("u-ok", 1000, "asap", bankToken, "k-funds"))
		require.Equal(t, http.StatusPaymentRequired, status)
		require.Equal(t, "insufficient_funds", a.Error.Code)
		require.Nil(t, a.Payout, "nothing recorded")
		require.Equal(t, 0, b.emu.Calls(coinflowtest.OpPayout), "the pay endpoint was not called")
		require.EqualValues(t, 500, b.emu.Balance(), "nothing debited")

		// Coinflow's own 402 (two payouts passed the check at once) is
		// recorded as the failure it is.
		b.emu.SetBalance(10_000_000)
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Status: http.StatusPaymentRequired})
		status, a = b.post(t, body("u-ok", 1000, "asap", bankToken, "k-race"))
		require.Equal(t, http.StatusPaymentRequired, status)
		require.Equal(t, "failed", a.Payout.Status)
		require.Equal(t, "insufficient_funds", *a.Payout.StatusDetail)
		b.emu.ClearAPIFaults()

		status, a = b.post(t, body("u-ok", 1000, "asap", bankToken, "k-race"))
		require.Equal(t, http.StatusOK, status, "a repeat returns the recorded payout")
		require.Equal(t, "failed", a.Status)

		status, a = b.post(t, body("u-ok", 2000, "asap", bankToken, "k-race"))
		require.Equal(t, http.StatusConflict, status)
		require.Equal(t, "idempotency_key_reused", a.Error.Code)
		require.Equal(t, 0, b.emu.PayoutsCreated())

		// The key refused for funds pays once the wallet can.
		status, a = b.post(t, body("u-ok", 1000, "asap", bankToken, "k-funds"))
		require.Equal(t, http.StatusCreated, status)
		require.Equal(t, "pending", a.Status)
		require.Equal(t, 1, b.emu.PayoutsCreated())
	})
}

func TestInvalidRequestsChangeNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		for name, tc := range map[string]struct {
			body  any
			field string
		}{
			"negative cents":   {body("u-ok", -5, "asap", bankToken, ""), "amount.cents"},
			"zero cents":       {body("u-ok", 0, "asap", bankToken, ""), "amount.cents"},
			"fractional cents": {map[string]any{"user_id": "u-ok", "amount": map[string]any{"cents": 12.5, "currency": "USD"}, "speed": "asap", "account": bankToken}, "amount.cents"},
			"string cents":     {map[string]any{"user_id": "u-ok", "amount": map[string]any{"cents": "100", "currency": "USD"}, "speed": "asap", "account": bankToken}, "amount.cents"},
			"bad currency":     {map[string]any{"user_id": "u-ok", "amount": map[string]any{"cents": 100, "currency": "XXX"}, "speed": "asap", "account": bankToken}, "amount.currency"},
			"bad speed":        {body("u-ok", 100, "warp", bankToken, ""), "speed"},
			"no user":          {body("", 100, "asap", bankToken, ""), "user_id"},
			"no account":       {body("u-ok", 100, "asap", "", ""), "account"},
			"key with spaces":  {body("u-ok", 100, "asap", bankToken, "a key"), "idempotency_key"},
			"unknown field":    {map[string]any{"user_id": "u-ok", "amount": map[string]any{"cents": 100, "currency": "USD"}, "speed": "asap", "account": bankToken, "idempotencyKey": "x"}, "body"},
		} {
			t.Run(name, func(t *testing.T) {
				status, a := b.post(t, tc.body)
				require.Equal(t, http.StatusUnprocessableEntity, status)
				require.Contains(t, a.Error.Fields, tc.field)
			})
		}
		var count int64
		require.NoError(t, store.DB().Model(&models.Payout{}).Count(&count).Error)
		require.Zero(t, count)
		require.Zero(t, b.emu.Calls(coinflowtest.OpPayout))
	})
}

func TestInitiationNeedsAnAPIKey(t *testing.T) {
	srv := testserver.Start(t, dbtest.SQLite(t, dbtest.Options{}), testserver.Options{})
	var a answer
	status := srv.API(t, http.MethodPost, "/api/v1/payouts", body("u-ok", 100, "asap", bankToken, ""), &a)
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, "not_configured", a.Error.Code)
}

// TestWalletCheckCountsOnlyWhatCoinflowHasNotDebited: a payout Coinflow
// accepted is already out of the balance and does not count twice; one
// recorded here but not yet accepted does count.
func TestWalletCheckCountsOnlyWhatCoinflowHasNotDebited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, store *models.Store) {
		b := setup(t, store)
		b.emu.SetBalance(100_000_00)
		status, a := b.post(t, body("u-ok", 60_000_00, "standard", bankToken, "big"))
		require.Equal(t, http.StatusCreated, status)
		require.Equal(t, "pending", a.Status)
		status, _ = b.post(t, body("u-ok", 30_000_00, "standard", bankToken, "second"))
		require.Equal(t, http.StatusCreated, status, "the accepted payout is already out of the balance")

		// Left requested (Coinflow refused to look at the pay call): its
		// debit is still to come, so it is held against the balance.
		b.emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Status: http.StatusTooManyRequests})
		status, a = b.post(t, body("u-ok", 5_000_00, "standard", bankToken, "held"))
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "requested", a.Payout.Status)
		b.emu.ClearAPIFaults()
		left := b.emu.Balance()
		status, a = b.post(t, body("u-ok", left-5_000_00+1_000, "standard", bankToken, "too-much"))
		require.Equal(t, http.StatusPaymentRequired, status, "balance %d less the held payout does not cover it", left)
		require.Equal(t, "insufficient_funds", a.Error.Code)
	})
}
