package onboard_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
	"github.com/payoutd/payoutd/decide"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/flowtest"
	"github.com/payoutd/payoutd/kyc"
	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/onboard"
)

// pendingUnknownToCoinflow records withdrawers payoutd holds as pending
// that Coinflow never heard of (a registration whose answer was lost, say):
// only a per-user lookup can ask about them, and each answers 404.
func pendingUnknownToCoinflow(t *testing.T, store *models.Store, n int) {
	t.Helper()
	for i := range n {
		_, err := onboard.Record(t.Context(), store, decide.Verification{
			Source: models.SourceAPI, UserID: fmt.Sprintf("u-lost-%02d", i), Status: models.VerificationPending,
			At: store.Now(), Country: "FR", EmailMasked: "l***@example.fr",
		}, nil)
		require.NoError(t, err)
	}
}

// TestFollowerKeepsToCoinflowRateLimits: with the emulator enforcing
// Coinflow's documented limits, a sweep over withdrawers the list answers
// and withdrawers only a lookup can answer is never throttled, never
// exceeds 3 KYC calls a minute or 10 not-found answers per 10 s, and
// backs each looked-up withdrawer off.
func TestFollowerKeepsToCoinflowRateLimits(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{Emu: coinflowtest.Options{EnforceRateLimits: true}})
		f.Emu.SetWebhookURL("")
		for i := range 3 {
			a := f.Register(map[string]any{"user_id": fmt.Sprintf("u-de-%d", i), "email": "g@example.de", "country": "DE"}, http.StatusAccepted)
			if i < 2 {
				f.CompleteAtLink(flowtest.Str(a, "verification_link"), true)
			}
			f.Advance(time.Minute) // registrations are KYC calls too
		}
		const lost = 24
		pendingUnknownToCoinflow(t, store, lost)
		began := clock.Now()

		res, err := f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 2, res.Changed, "the two approvals, from the list")
		require.EqualValues(t, lost, res.LookedUp, "only those the list did not answer")
		require.EqualValues(t, lost, res.NotFound)
		require.Zero(t, res.Throttled)
		require.EqualValues(t, lost+1, res.Calls, "one list call and one lookup each")
		stats := f.Emu.RateLimitStats()
		require.Zero(t, stats.Throttled, "Coinflow never had to throttle")
		require.LessOrEqual(t, stats.MaxKYCPerMinute, kyc.KYCCallsPerMinute)
		require.LessOrEqual(t, stats.MaxNotFoundPer10s, kyc.NotFoundPer10Second)
		require.GreaterOrEqual(t, clock.Now().Sub(began), time.Duration(lost/kyc.KYCCallsPerMinute-1)*time.Minute,
			"%d lookups at %d a minute", lost, kyc.KYCCallsPerMinute)

		w, err := store.WithdrawerGet(t.Context(), "u-lost-00")
		require.NoError(t, err)
		require.Equal(t, 1, w.Checks)
		require.NotNil(t, w.NextCheckAt)
		require.False(t, w.NextCheckAt.Before(began.Add(time.Minute)), "checked again after the base interval")
	})
}

// TestFollowerSlowsDownOnCoinflows429: a 429 ends the sweep's lookups,
// puts the withdrawer off for at least Retry-After, and halves the pace
// until a sweep goes by without one.
func TestFollowerSlowsDownOnCoinflows429(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		var slept time.Duration
		f := &flowtest.Flow{}
		*f = *flowtest.New(t, store, clock, flowtest.Options{Follower: kyc.Config{Sleep: func(_ context.Context, d time.Duration) error {
			slept += d
			f.Advance(d)
			return nil
		}}})
		pendingUnknownToCoinflow(t, store, 5)
		f.Emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpGetWithdrawer, Status: http.StatusTooManyRequests, RetryAfter: 5 * time.Minute})
		res, err := f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 1, res.Throttled)
		require.EqualValues(t, 1, res.LookedUp, "the sweep stopped at the 429")
		require.Equal(t, 1.0, testutil.ToFloat64(f.KYCMetrics.Throttled), "the 429 is counted")
		require.Equal(t, 2.0, testutil.ToFloat64(f.KYCMetrics.Calls), "the list and one lookup")
		w, err := store.WithdrawerGet(t.Context(), "u-lost-00")
		require.NoError(t, err)
		require.Zero(t, w.Checks, "a 429 is not the withdrawer's check")
		require.False(t, w.NextCheckAt.Before(clock.Now().Add(5*time.Minute)), "put off for Retry-After")

		f.Emu.ClearAPIFaults()
		slept = 0
		res, err = f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 4, res.LookedUp)
		require.GreaterOrEqual(t, slept, 2*time.Minute, "at half pace, 3 calls in 2 minutes")

		// A sweep without a 429 returns to the documented pace.
		f.Advance(time.Hour)
		slept = 0
		res, err = f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.EqualValues(t, 5, res.LookedUp)
		require.Less(t, slept, 2*time.Minute, "back at 3 a minute")
	})
}

func TestKYCStalledIsRaisedAfterStallAfterAndResolvedWhenVerificationEnds(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		a := f.Register(map[string]any{"user_id": "u-slow", "email": "s@example.de", "country": "DE"}, http.StatusAccepted)
		f.Advance(71 * time.Hour)
		// Asking Coinflow again (it answers 451, still pending) does not
		// restart the clock: the withdrawer has been pending since
		// registration.
		status, _ := f.Call(http.MethodGet, "/api/v1/withdrawers/u-slow?refresh=true", nil)
		require.Equal(t, http.StatusOK, status)
		_, err := f.Rec.RunOnce(t.Context(), "test")
		require.NoError(t, err)
		require.Empty(t, openOf(t, store, models.KindKYCStalled), "not yet 72h")

		f.Advance(2 * time.Hour)
		_, err = f.Rec.RunOnce(t.Context(), "test")
		require.NoError(t, err)
		open := openOf(t, store, models.KindKYCStalled)
		require.Len(t, open, 1)
		require.Equal(t, "withdrawer:u-slow", open[0].Subject)
		require.Equal(t, "u-slow", models.Deref(open[0].UserID))
		require.Equal(t, models.SeverityWarning, open[0].Severity)

		f.CompleteAtLink(flowtest.Str(a, "verification_link"), true)
		f.Settle()
		_, err = f.Rec.RunOnce(t.Context(), "test")
		require.NoError(t, err)
		require.Empty(t, openOf(t, store, models.KindKYCStalled), "resolved once approved")
	})
}

func openOf(t *testing.T, store *models.Store, kind models.FindingKind) []models.Finding {
	t.Helper()
	fs, _, err := store.FindingList(t.Context(), models.FindingFilter{Status: models.FindingOpen, Kind: kind})
	require.NoError(t, err)
	return fs
}

func TestSessionKeyIsReusedUntilShortlyBeforeItExpires(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		f.Register(flowtest.USRegistration("u-us"), http.StatusCreated)
		key := func() (string, time.Time) {
			status, a := f.Call(http.MethodPost, "/api/v1/withdrawers/u-us/session-key", nil)
			require.Equal(t, http.StatusOK, status, "%v", a)
			exp, err := time.Parse(time.RFC3339, flowtest.Str(a, "expires_at"))
			require.NoError(t, err)
			return flowtest.Str(a, "key"), exp
		}
		first, exp := key()
		user, ok := f.Emu.SessionKeyValid(first)
		require.True(t, ok)
		require.Equal(t, "u-us", user)
		require.Equal(t, clock.Now().Add(24*time.Hour), exp)

		f.Advance(22 * time.Hour)
		again, _ := key()
		require.Equal(t, first, again, "reused")
		require.Equal(t, 1, f.Emu.Calls(coinflowtest.OpSessionKey))

		f.Advance(90 * time.Minute) // within an hour of the end
		fresh, _ := key()
		require.NotEqual(t, first, fresh, "renewed before it runs out")
		require.Equal(t, 2, f.Emu.Calls(coinflowtest.OpSessionKey))

		for _, e := range f.Srv.Logs.AllEntries() {
			line, err := e.String()
			require.NoError(t, err)
			require.NotContains(t, line, first)
			require.NotContains(t, line, fresh)
		}
	})
}

func TestDeletingADestinationKeepsItListedAndUnpayable(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		f.Register(flowtest.USRegistration("u-us"), http.StatusCreated)
		card := flowtest.Str(f.Save("u-us", map[string]any{"type": "card", "card_token": "tok_visa_1881", "exp_month": "01", "exp_year": "30"}), "token")
		status, _ := f.Call(http.MethodDelete, "/api/v1/withdrawers/u-us/destinations/"+card, nil)
		require.Equal(t, http.StatusNoContent, status)
		require.Equal(t, 1, f.Emu.Calls(coinflowtest.OpDeleteCard))
		status, _ = f.Call(http.MethodDelete, "/api/v1/withdrawers/u-us/destinations/"+card, nil)
		require.Equal(t, http.StatusNoContent, status, "deleting twice is no error")
		require.Equal(t, 1, f.Emu.Calls(coinflowtest.OpDeleteCard), "and asks Coinflow once")

		status, a := f.Call(http.MethodGet, "/api/v1/withdrawers/u-us?refresh=true", nil)
		require.Equal(t, http.StatusOK, status)
		dests := a["destinations"].([]any)
		require.Len(t, dests, 1)
		d := dests[0].(map[string]any)
		require.Equal(t, card, d["token"])
		require.Equal(t, true, d["deleted"], "Coinflow still lists it, deleted")
	})
}

// TestUnclaimedAndOnHoldWebhooksMoveThePayout: the emulator's Withdraw
// Unclaimed and Withdraw On Hold reach payoutd and are applied.
func TestUnclaimedAndOnHoldWebhooksMoveThePayout(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		f.Register(flowtest.USRegistration("u-us"), http.StatusCreated)
		bank := flowtest.Str(f.SaveBank("u-us"), "token")
		for _, tc := range []struct {
			mark   func(txn string) error
			status models.PayoutStatus
			detail string
		}{
			{f.Emu.MarkUnclaimed, models.StatusPending, models.DetailUnclaimed},
			{f.Emu.MarkOnHold, models.StatusInReview, models.DetailOnHold},
		} {
			p := f.Pay("u-us", 1_500, "USD", "standard", bank)
			f.Settle()
			txn := flowtest.Str(p["coinflow"].(map[string]any), "transaction")
			require.NoError(t, tc.mark(txn))
			f.Advance(time.Minute)
			f.Settle()
			got, err := store.PayoutGet(t.Context(), flowtest.Str(p, "id"))
			require.NoError(t, err)
			require.Equal(t, tc.status, got.Status)
			require.Equal(t, tc.detail, models.Deref(got.StatusDetail))
			hist, err := store.PayoutHistoryList(t.Context(), got.ID)
			require.NoError(t, err)
			last := hist[len(hist)-1]
			require.Equal(t, models.SourceWebhook, last.Source)
			require.True(t, strings.Contains(models.Deref(last.ToDetail), tc.detail))
		}
	})
}

// TestLostRegistrationAnswerIsRecovered: Coinflow registered the withdrawer
// but its answer never arrived. A document-verification retry is answered
// 451 again and all is well; a US retry is answered 409 (Coinflow has an
// approved withdrawer). payoutd says so, and records and follows the
// withdrawer Coinflow has.
func TestLostRegistrationAnswerIsRecovered(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		lose := func() {
			f.Emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpKYC, TruncateBody: true, Times: 1})
		}
		lose()
		a := f.Register(map[string]any{"user_id": "u-lost-de", "email": "l@example.de", "country": "DE"}, http.StatusAccepted)
		require.NotEmpty(t, flowtest.Str(a, "verification_link"))

		lose()
		status, a := f.Call(http.MethodPost, "/api/v1/withdrawers", flowtest.USRegistration("u-lost-us"))
		require.Equal(t, http.StatusConflict, status, "%v", a)
		require.Equal(t, "already_registered", flowtest.ErrorCode(a))
		status, a = f.Call(http.MethodGet, "/api/v1/withdrawers/u-lost-us", nil)
		require.Equal(t, http.StatusOK, status, "recorded from what Coinflow has: %v", a)
		require.Equal(t, "approved", flowtest.Str(a, "verification_status"))
	})
}

func TestPayingAWithdrawerCoinflowDoesNotKnowIsBadInput(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		status, a := f.Call(http.MethodPost, "/api/v1/payouts", map[string]any{
			"user_id": "u-nobody", "amount": flowtest.Money(1000, "USD"), "speed": "asap", "account": "bnk_x",
		})
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v", a)
		require.Equal(t, "invalid_request", flowtest.ErrorCode(a))
		require.Zero(t, f.Emu.Calls(coinflowtest.OpPayout))
	})
}

// TestFollowerGoesOnWhenTheListFails: a list Coinflow cannot serve does not
// stop the following (each due withdrawer is asked on its own), and a list
// Coinflow throttles is not asked for again before Retry-After.
func TestFollowerGoesOnWhenTheListFails(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		f.Emu.SetWebhookURL("")
		a := f.Register(map[string]any{"user_id": "u-de", "email": "g@example.de", "country": "DE"}, http.StatusAccepted)
		f.CompleteAtLink(flowtest.Str(a, "verification_link"), true)
		f.Advance(time.Minute)

		f.Emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, Status: http.StatusInternalServerError})
		res, err := f.Follower.Sweep(t.Context())
		require.Error(t, err, "the list's failure is reported: %+v", res)
		require.EqualValues(t, 1, res.LookedUp, "and the withdrawer asked about on its own: %+v %v", res, err)
		w, err := store.WithdrawerGet(t.Context(), "u-de")
		require.NoError(t, err)
		require.Equal(t, models.VerificationApproved, w.VerificationStatus)

		f.Register(map[string]any{"user_id": "u-fr", "email": "f@example.fr", "country": "FR"}, http.StatusAccepted)
		f.Advance(time.Minute)
		f.Emu.ClearAPIFaults()
		f.Emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, Status: http.StatusTooManyRequests, RetryAfter: 10 * time.Minute})
		res, err = f.Follower.Sweep(t.Context())
		require.Error(t, err)
		require.EqualValues(t, 1, res.Throttled)
		require.Zero(t, res.LookedUp, "throttled: no lookups either")
		f.Emu.ClearAPIFaults()
		calls := f.Emu.Calls(coinflowtest.OpWithdrawers)
		f.Advance(5 * time.Minute)
		res, err = f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.Zero(t, res.Calls, "before Retry-After")
		require.Equal(t, calls, f.Emu.Calls(coinflowtest.OpWithdrawers))
		f.Advance(6 * time.Minute)
		res, err = f.Follower.Sweep(t.Context())
		require.NoError(t, err)
		require.Equal(t, calls+1, f.Emu.Calls(coinflowtest.OpWithdrawers), "after it, the list again")
	})
}

// TestSaveWhoseAnswerWasLostIsNotSavedTwice: Coinflow saved the IBAN but
// its answer was cut off; payoutd finds the new destination in Coinflow's
// list instead of having the merchant save it again.
func TestSaveWhoseAnswerWasLostIsNotSavedTwice(t *testing.T) {
	dbtest.EachAt(t, flowtest.Start, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		f := flowtest.New(t, store, clock, flowtest.Options{})
		f.ApproveGerman("u-de", true)
		f.Emu.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpAddIBAN, TruncateBody: true, Times: 1})
		iban := f.Save("u-de", map[string]any{"type": "iban", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "account_holder": "Greta"})
		require.Equal(t, "3000", flowtest.Str(iban, "last4"))
		require.Equal(t, 1, f.Emu.Calls(coinflowtest.OpAddIBAN), "sent once")
		w, ok := f.Emu.Withdrawer("u-de")
		require.True(t, ok)
		require.Len(t, w.Accounts, 1, "one destination at Coinflow")
		require.Equal(t, flowtest.Str(iban, "token"), w.Accounts[0])
	})
}
