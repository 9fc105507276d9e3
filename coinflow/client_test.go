package coinflow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow"
	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// testAPIKey is distinctive so that a leak into an error text is visible.
const testAPIKey = "sk_test_4f9c1e2b7a6d5c3e8f0a9b1c2d3e4f5a"

func noSleep(context.Context, time.Duration) error { return nil }

type testBundle struct {
	srv    *coinflowtest.Server
	client *coinflow.Client
	wire   *wireLog

	mu    sync.Mutex
	waits []time.Duration // what the client asked SleepFunc to wait
}

func (b *testBundle) sleeps() []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]time.Duration(nil), b.waits...)
}

// setup starts an emulator and a client for it. cfg's zero fields get the
// emulator's URL and key, and a SleepFunc that records each wait and
// returns at once, so retries cost no real time.
func setup(t *testing.T, cfg coinflow.Config) *testBundle {
	t.Helper()
	b := &testBundle{srv: coinflowtest.NewServer(coinflowtest.Options{APIKey: testAPIKey, InitialBalanceCents: 1_000_000})}
	t.Cleanup(b.srv.Close)
	b.wire = &wireLog{base: b.srv.Client().Transport}
	if cfg.BaseURL == "" {
		cfg.BaseURL = b.srv.URL
	}
	if cfg.APIKey == "" {
		cfg.APIKey = testAPIKey
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: b.wire}
	}
	if cfg.SleepFunc == nil {
		cfg.SleepFunc = func(_ context.Context, d time.Duration) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.waits = append(b.waits, d)
			return nil
		}
	}
	var err error
	b.client, err = coinflow.New(cfg)
	require.NoError(t, err)
	return b
}

func (b *testBundle) addWithdrawer(t *testing.T, spec coinflowtest.WithdrawerSpec) {
	t.Helper()
	_, err := b.srv.AddWithdrawer(spec)
	require.NoError(t, err)
}

// wireLog is a transport that keeps the body of every request sent.
type wireLog struct {
	base http.RoundTripper
	mu   sync.Mutex
	sent [][]byte
}

func (l *wireLog) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		l.mu.Lock()
		l.sent = append(l.sent, body)
		l.mu.Unlock()
	}
	return l.base.RoundTrip(req)
}

func (l *wireLog) bodies() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.sent...)
}

func apiError(t *testing.T, err error) *coinflow.APIError {
	t.Helper()
	require.Error(t, err)
	e, ok := errors.AsType[*coinflow.APIError](err)
	require.True(t, ok, "%T is not an *APIError: %v", err, err)
	return e
}

func payoutTo(user, account, key string, cents int64) coinflow.PayoutRequest {
	return coinflow.PayoutRequest{IdempotencyKey: key, Speed: "same_day", Account: account, UserID: user, Amount: coinflow.Amount{Cents: cents}}
}

func TestNewWithoutAPIKey(t *testing.T) {
	t.Parallel()
	c, err := coinflow.New(coinflow.Config{BaseURL: "http://127.0.0.1:1"})
	require.ErrorIs(t, err, coinflow.ErrNoAPIKey)
	require.Nil(t, c)
}

func TestRetryRecoversFrom503(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	b.srv.SetBalance(123_456)
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpBalance, Status: http.StatusServiceUnavailable, Times: 2})

	bal, err := b.client.Balance(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 123_456, bal)
	require.Equal(t, 3, b.srv.Calls(coinflowtest.OpBalance))
	waits := b.sleeps()
	require.Len(t, waits, 2)
	require.LessOrEqual(t, waits[0], 100*time.Millisecond+time.Millisecond, "first backoff is within BaseBackoff")
	require.LessOrEqual(t, waits[1], 200*time.Millisecond+time.Millisecond, "second backoff is within twice BaseBackoff")
	for _, w := range waits {
		require.Positive(t, w)
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second, Times: 1})
	b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-1"})

	ws, err := b.client.Withdrawers(t.Context(), coinflow.ListWithdrawersParams{})
	require.NoError(t, err)
	require.Len(t, ws, 1)
	require.Equal(t, "u-1", ws[0].UserID())
	require.Equal(t, 2, b.srv.Calls(coinflowtest.OpWithdrawers))
	require.Equal(t, []time.Duration{3 * time.Second}, b.sleeps(), "the wait is the server's Retry-After")
}

func TestRetryAfterBeyondMaxStopsAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{MaxRetryAfter: 10 * time.Second})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpBalance, Status: http.StatusTooManyRequests, RetryAfter: time.Minute})

	_, err := b.client.Balance(t.Context())
	require.ErrorIs(t, err, coinflow.ErrRateLimited)
	e := apiError(t, err)
	require.Equal(t, http.StatusTooManyRequests, e.StatusCode)
	require.Equal(t, time.Minute, e.RetryAfter)
	require.Equal(t, 1, e.Attempts)
	require.Equal(t, 1, b.srv.Calls(coinflowtest.OpBalance))
	require.Empty(t, b.sleeps())
}

func TestRetryGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{MaxAttempts: 3})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpBalance, Status: http.StatusServiceUnavailable})

	_, err := b.client.Balance(t.Context())
	require.ErrorIs(t, err, coinflow.ErrUnavailable)
	require.NotErrorIs(t, err, coinflow.ErrRejected)
	e := apiError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
	require.Equal(t, 3, e.Attempts)
	require.NotEmpty(t, e.Message, "Coinflow's msg is kept")
	require.Equal(t, 3, b.srv.Calls(coinflowtest.OpBalance))
	require.Len(t, b.sleeps(), 2, "a wait between attempts, none after the last")
}

func TestCanceledContextEndsRetries(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	b := setup(t, coinflow.Config{MaxAttempts: 10, SleepFunc: func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpBalance, Status: http.StatusServiceUnavailable})

	_, err := b.client.Balance(ctx)
	require.Error(t, err)
	require.Equal(t, 1, b.srv.Calls(coinflowtest.OpBalance), "no attempt after the caller gave up")
}

// TestReadNeverHangs bounds a call against a server that never answers:
// each attempt ends at Timeout. The bound is on a hang, not on speed.
func TestReadNeverHangs(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{Timeout: 200 * time.Millisecond, MaxAttempts: 2})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Hang: 10 * time.Second})

	start := time.Now()
	_, err := b.client.WithdrawsPage(t.Context(), coinflow.ListWithdrawsParams{}, 1)
	elapsed := time.Since(start)
	require.Less(t, elapsed, 2*time.Second, "two attempts of 200ms, not the 10s hang")
	require.ErrorIs(t, err, coinflow.ErrUnavailable)
	e := apiError(t, err)
	require.Zero(t, e.StatusCode, "no answer arrived")
	require.Equal(t, 2, e.Attempts)
	require.True(t, e.OutcomeUnknown())
	require.Equal(t, 2, b.srv.Calls(coinflowtest.OpListWithdraws))
}

// TestTruncatedBodyIsRetried: the emulator's TruncateBody declares the
// full Content-Length and closes the connection mid-body.
func TestTruncatedBodyIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{MaxAttempts: 3})
	b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-1"})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, TruncateBody: true, Times: 1})

	ws, err := b.client.Withdrawers(t.Context(), coinflow.ListWithdrawersParams{})
	require.NoError(t, err)
	require.Len(t, ws, 1)
	require.Equal(t, 2, b.srv.Calls(coinflowtest.OpWithdrawers))

	// Cut every time: the client stops after MaxAttempts. The connection
	// broke mid-body, so the failure is a read error (status 0), not a body
	// that arrived whole but undecodable.
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpWithdrawers, TruncateBody: true})
	_, err = b.client.Withdrawers(t.Context(), coinflow.ListWithdrawersParams{})
	require.ErrorIs(t, err, coinflow.ErrUnavailable)
	e := apiError(t, err)
	require.Zero(t, e.StatusCode)
	require.Equal(t, 3, e.Attempts)
	require.True(t, e.OutcomeUnknown())
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	require.Equal(t, 2+3, b.srv.Calls(coinflowtest.OpWithdrawers))
}

// halfBody is a transport that hands the client only the first half of
// each 200 body with a clean EOF, as a proxy that swallows the broken
// connection would: the body arrives, but is not valid JSON.
type halfBody struct {
	base  http.RoundTripper
	mu    sync.Mutex
	times int // how many responses to cut; -1 = all
}

func (h *halfBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	h.mu.Lock()
	cut := h.times != 0
	if h.times > 0 {
		h.times--
	}
	h.mu.Unlock()
	if !cut {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body[:len(body)/2]))
	resp.ContentLength = int64(len(body) / 2)
	resp.Header.Del("Content-Length")
	return resp, nil
}

func TestMalformedBodyIsRetriedThenReported(t *testing.T) {
	t.Parallel()
	srv := coinflowtest.NewServer(coinflowtest.Options{APIKey: testAPIKey, InitialBalanceCents: 42_00})
	t.Cleanup(srv.Close)
	cut := &halfBody{base: srv.Client().Transport, times: 1}
	c, err := coinflow.New(coinflow.Config{BaseURL: srv.URL, APIKey: testAPIKey, MaxAttempts: 3, SleepFunc: noSleep, HTTPClient: &http.Client{Transport: cut}})
	require.NoError(t, err)

	bal, err := c.Balance(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 42_00, bal)
	require.Equal(t, 2, srv.Calls(coinflowtest.OpBalance))

	cut.mu.Lock()
	cut.times = -1
	cut.mu.Unlock()
	_, err = c.Balance(t.Context())
	require.ErrorIs(t, err, coinflow.ErrMalformedResponse)
	e := apiError(t, err)
	require.Equal(t, 3, e.Attempts)
	require.True(t, e.OutcomeUnknown())
	require.Equal(t, 2+3, srv.Calls(coinflowtest.OpBalance))
}

// payOnce pays cents to u-1 under key and requires it to take attempts
// calls to Coinflow yet make one withdraw there, the one answered; it
// returns that withdraw.
func (b *testBundle) payOnce(t *testing.T, key string, cents int64, attempts int) coinflowtest.Withdraw {
	t.Helper()
	p, err := b.client.Payout(t.Context(), payoutTo("u-1", "bnk_1", key, cents))
	require.NoError(t, err)
	require.Equal(t, attempts, b.srv.Calls(coinflowtest.OpPayout))
	require.Equal(t, 1, b.srv.PayoutsCreated())
	w, ok := b.srv.WithdrawByIdempotencyKey(key)
	require.True(t, ok)
	require.Equal(t, w.Transaction, p.Signature, "the answer is the payout Coinflow made")
	return w
}

func TestPayoutRetriedWithSameIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{})
	b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-1", BankToken: "bnk_1"})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Status: http.StatusServiceUnavailable, Times: 2})

	w := b.payOnce(t, "key-503", 5_000, 3)
	require.EqualValues(t, 5_000, w.AmountCents)

	sent := b.wire.bodies()
	require.Len(t, sent, 3)
	for _, body := range sent {
		require.Equal(t, sent[0], body, "every attempt sends the same bytes")
		var req struct{ IdempotencyKey string }
		require.NoError(t, json.Unmarshal(body, &req))
		require.Equal(t, "key-503", req.IdempotencyKey)
	}
}

// TestPayoutResponseLost: the emulator makes the payout but its answer
// never arrives whole; the retry must get the same payout back, not a
// second one.
func TestPayoutResponseLost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault coinflowtest.APIFault
		cfg   coinflow.Config
	}{
		{"hang past the timeout", coinflowtest.APIFault{Operation: coinflowtest.OpPayout, Hang: 10 * time.Second, Times: 1}, coinflow.Config{Timeout: 300 * time.Millisecond}},
		{"body cut mid-way", coinflowtest.APIFault{Operation: coinflowtest.OpPayout, TruncateBody: true, Times: 1}, coinflow.Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tc.cfg)
			b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-1", BankToken: "bnk_1"})
			b.srv.SetAPIFaults(tc.fault)
			before := b.srv.Balance()

			b.payOnce(t, "key-lost", 7_000, 2) // the retry answers the payout the first attempt made
			require.Equal(t, before-7_000-150, b.srv.Balance(), "debited once")
			require.Len(t, b.sleeps(), 1)
		})
	}
}

func TestPayoutWithoutIdempotencyKeyIsNotSent(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{})
	_, err := b.client.Payout(t.Context(), payoutTo("u-1", "bnk_1", "", 100))
	require.ErrorIs(t, err, coinflow.ErrRejected)
	require.Zero(t, b.srv.Calls(coinflowtest.OpPayout))
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{})
	b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-ok", BankToken: "bnk_ok"})
	b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-kyc", BankToken: "bnk_kyc", Verification: coinflowtest.VerificationPending})
	b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-blocked", BankToken: "bnk_blocked", Blocked: true})
	wrongKey, err := coinflow.New(coinflow.Config{BaseURL: b.srv.URL, APIKey: "sk_test_wrong_" + testAPIKey[8:], SleepFunc: noSleep})
	require.NoError(t, err)

	payout := func(user, account, key string, cents int64) func(ctx context.Context) error {
		return func(ctx context.Context) error {
			_, err := b.client.Payout(ctx, payoutTo(user, account, key, cents))
			return err
		}
	}

	sentinels := []error{
		coinflow.ErrInsufficientFunds, coinflow.ErrVerificationRequired, coinflow.ErrNotFound, coinflow.ErrRateLimited,
		coinflow.ErrUnavailable, coinflow.ErrUnauthorized, coinflow.ErrBlocked, coinflow.ErrRejected,
	}
	for _, tc := range []struct {
		name   string
		call   func(ctx context.Context) error
		op     string
		status int
		want   error
		check  func(t *testing.T, e *coinflow.APIError)
	}{{
		name: "payout beyond the balance",
		call: payout("u-ok", "bnk_ok", "k-402", 100_000_000),
		op:   coinflowtest.OpPayout, status: http.StatusPaymentRequired, want: coinflow.ErrInsufficientFunds,
		check: func(t *testing.T, e *coinflow.APIError) {
			require.Equal(t, "Insufficient funds", e.Message)
			require.False(t, e.OutcomeUnknown())
		},
	}, {
		name: "payout to an unverified withdrawer",
		call: payout("u-kyc", "bnk_kyc", "k-451", 100),
		op:   coinflowtest.OpPayout, status: http.StatusUnavailableForLegalReasons, want: coinflow.ErrVerificationRequired,
		check: func(t *testing.T, e *coinflow.APIError) {
			require.True(t, strings.HasPrefix(e.VerificationLink, "https://"), "link %q", e.VerificationLink)
			require.NotEmpty(t, e.Message)
		},
	}, {
		name: "withdrawer with verification outstanding",
		call: func(ctx context.Context) error {
			_, err := b.client.GetWithdrawer(ctx, "u-kyc")
			return err
		},
		op: coinflowtest.OpGetWithdrawer, status: http.StatusUnavailableForLegalReasons, want: coinflow.ErrVerificationRequired,
		check: func(t *testing.T, e *coinflow.APIError) {
			require.True(t, strings.HasPrefix(e.VerificationLink, "https://"), "link %q", e.VerificationLink)
			require.Equal(t, coinflowtest.VerificationPending, e.VerificationStatus)
		},
	}, {
		name: "unknown withdraw",
		call: func(ctx context.Context) error {
			_, err := b.client.GetWithdraw(ctx, "5nosuchsignature")
			return err
		},
		op: coinflowtest.OpGetWithdraw, status: http.StatusNotFound, want: coinflow.ErrNotFound,
		check: func(t *testing.T, e *coinflow.APIError) { require.Equal(t, "Withdrawal not found", e.Message) },
	}, {
		name: "payout to a blocked withdrawer",
		call: payout("u-blocked", "bnk_blocked", "k-403", 100),
		op:   coinflowtest.OpPayout, status: http.StatusForbidden, want: coinflow.ErrBlocked,
		check: func(t *testing.T, e *coinflow.APIError) { require.Equal(t, "User is blocked", e.Message) },
	}, {
		name: "wrong API key",
		call: func(ctx context.Context) error {
			_, err := wrongKey.Balance(ctx)
			return err
		},
		op: coinflowtest.OpBalance, status: http.StatusUnauthorized, want: coinflow.ErrUnauthorized,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			callsBefore := b.srv.Calls(tc.op)
			err := tc.call(t.Context())
			e := apiError(t, err)
			require.Equal(t, tc.status, e.StatusCode)
			require.Equal(t, 1, e.Attempts, "not retried")
			require.Equal(t, callsBefore+1, b.srv.Calls(tc.op))
			for _, s := range sentinels {
				require.Equal(t, s == tc.want, errors.Is(err, s), "errors.Is(err, %v)", s)
			}
			require.NotContains(t, err.Error(), testAPIKey)
			require.NotContains(t, err.Error(), testAPIKey[8:])
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
	require.Zero(t, b.srv.PayoutsCreated())
}

// TestErrorsNeverShowTheKey covers the errors without an HTTP answer, where
// transport text could carry request details.
func TestErrorsNeverShowTheKey(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	c, err := coinflow.New(coinflow.Config{BaseURL: url, APIKey: testAPIKey, MaxAttempts: 2, SleepFunc: noSleep})
	require.NoError(t, err)
	_, err = c.Balance(t.Context())
	require.ErrorIs(t, err, coinflow.ErrUnavailable)
	require.Equal(t, 2, apiError(t, err).Attempts)
	require.NotContains(t, err.Error(), testAPIKey)

	b := setup(t, coinflow.Config{Timeout: 100 * time.Millisecond, MaxAttempts: 1})
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpGetWithdrawer, Hang: 10 * time.Second})
	_, err = b.client.GetWithdrawer(t.Context(), "u-1")
	require.ErrorIs(t, err, coinflow.ErrUnavailable)
	require.NotContains(t, err.Error(), testAPIKey)
}

func TestWithdrawsPagesThroughEverything(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, limit, calls int
	}{
		{n: 250, limit: 100, calls: 3},
		{n: 200, limit: 100, calls: 3}, // a full last page needs an empty one to end
		{n: 99, limit: 100, calls: 2},  // a short first page may be a capped one: one more to be sure
		{n: 250, limit: 200, calls: 3}, // the server caps pages at 100: the short pages do not end it
		{n: 0, limit: 100, calls: 1},
		{n: 120, limit: 0, calls: 2}, // default limit 100
	} {
		t.Run(fmt.Sprintf("n=%d limit=%d", tc.n, tc.limit), func(t *testing.T) {
			t.Parallel()
			b := setup(t, coinflow.Config{})
			b.srv.SeedSynthetic(tc.n, nil)

			seen := map[string]bool{}
			var last time.Time
			for w, err := range b.client.Withdraws(t.Context(), coinflow.ListWithdrawsParams{Limit: tc.limit}) {
				require.NoError(t, err)
				require.NotEmpty(t, w.Transaction)
				require.False(t, seen[w.Transaction], "duplicate %s", w.Transaction)
				seen[w.Transaction] = true
				require.False(t, w.CreatedAt.Before(last), "oldest first")
				last = w.CreatedAt
				require.Equal(t, b.srv.MerchantObjectID(), w.Merchant.ID, "merchant sent as a string id")
				require.NotEmpty(t, w.Withdrawer.ID)
			}
			require.Len(t, seen, tc.n)
			require.Equal(t, tc.calls, b.srv.Calls(coinflowtest.OpListWithdraws))
		})
	}
}

func TestWithdrawsStopsWhenTheConsumerBreaks(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{})
	b.srv.SeedSynthetic(1_000, nil)

	n := 0
	for _, err := range b.client.Withdraws(t.Context(), coinflow.ListWithdrawsParams{Limit: 100}) {
		require.NoError(t, err)
		n++
		if n == 150 {
			break
		}
	}
	require.Equal(t, 150, n)
	require.Equal(t, 2, b.srv.Calls(coinflowtest.OpListWithdraws), "no page fetched after the break")
}

func TestWithdrawsYieldsThePageError(t *testing.T) {
	t.Parallel()
	b := setup(t, coinflow.Config{MaxAttempts: 2})
	b.srv.SeedSynthetic(250, nil)
	// The first page answers; every later call fails.
	b.srv.SetAPIFaults(coinflowtest.APIFault{Operation: coinflowtest.OpListWithdraws, Status: http.StatusBadGateway, After: 1})

	var got int
	var errs []error
	for w, err := range b.client.Withdraws(t.Context(), coinflow.ListWithdrawsParams{Limit: 100}) {
		if err != nil {
			require.Zero(t, w.Transaction, "the error comes with a zero Withdraw")
			errs = append(errs, err)
			continue
		}
		require.Empty(t, errs, "nothing after the error")
		got++
	}
	require.Equal(t, 100, got)
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], coinflow.ErrUnavailable)
	e := apiError(t, errs[0])
	require.Equal(t, http.StatusBadGateway, e.StatusCode)
	require.Equal(t, 2, e.Attempts)
	require.Equal(t, 1+2, b.srv.Calls(coinflowtest.OpListWithdraws))
}

// TestRefDecodesBothForms: Coinflow sends withdraw.merchant,
// withdraw.withdrawer and withdrawer.merchant as an id or as the object.
// The emulator sends ids, so the object forms come from a stub server.
func TestRefDecodesBothForms(t *testing.T) {
	t.Parallel()
	const list = `[
	{"transaction":"tx-1","createdAt":"2025-06-01T10:00:00.000Z","amount":{"cents":100,"currency":"USD"},"speed":"asap","status":"completed",
	 "merchant":{"_id":"66aa00000000000000000001","name":"Acme"},"withdrawer":"66bb00000000000000000001"},
	{"transaction":"tx-2","createdAt":"2025-06-01T11:00:00.000Z","amount":{"cents":200,"currency":"USD"},"speed":"asap","status":"completed",
	 "merchant":"66aa00000000000000000001","withdrawer":{"id":"66bb00000000000000000002","email":"x@example.com"}},
	{"transaction":"tx-3","createdAt":"2025-06-01T12:00:00.000Z","amount":{"cents":300,"currency":"USD"},"speed":"asap","status":"completed",
	 "merchant":null,"withdrawer":{"_id":"66bb00000000000000000003","id":"ignored"}}
	]`
	const withdrawer = `{"withdrawer":{"_id":"66bb00000000000000000001","wallet":"acmeʬu-1","merchant":{"_id":"66aa00000000000000000001"},
	 "bankAccounts":[{"last4":"1234","token":"bnk_1"}],"cards":[],"ibans":[],"pixes":[],"efts":[]}}`
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != testAPIKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/merchant/withdraws":
			io.WriteString(w, list)
		case "/withdraw":
			io.WriteString(w, withdrawer)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(stub.Close)
	c, err := coinflow.New(coinflow.Config{BaseURL: stub.URL, APIKey: testAPIKey, SleepFunc: noSleep})
	require.NoError(t, err)

	ws, err := c.WithdrawsPage(t.Context(), coinflow.ListWithdrawsParams{}, 1)
	require.NoError(t, err)
	require.Len(t, ws, 3)
	require.Equal(t, "66aa00000000000000000001", ws[0].Merchant.ID, "merchant as an object")
	require.Equal(t, "66bb00000000000000000001", ws[0].Withdrawer.ID, "withdrawer as a string")
	require.Equal(t, "66aa00000000000000000001", ws[1].Merchant.ID, "merchant as a string")
	require.Equal(t, "66bb00000000000000000002", ws[1].Withdrawer.ID, "withdrawer object with id")
	require.Equal(t, "", ws[2].Merchant.ID, "null merchant")
	require.Equal(t, "66bb00000000000000000003", ws[2].Withdrawer.ID, "_id wins over id")

	// The object is kept as it came: re-encoding does not lose it.
	out, err := json.Marshal(ws[0].Merchant)
	require.NoError(t, err)
	require.JSONEq(t, `{"_id":"66aa00000000000000000001","name":"Acme"}`, string(out))

	wd, err := c.GetWithdrawer(t.Context(), "u-1")
	require.NoError(t, err)
	require.Equal(t, "66aa00000000000000000001", wd.Merchant.ID)
	require.Equal(t, "u-1", wd.UserID())
	require.Equal(t, "bnk_1", wd.BankAccounts[0].Token)

	// And the string form, from the emulator.
	b := setup(t, coinflow.Config{})
	b.addWithdrawer(t, coinflowtest.WithdrawerSpec{UserID: "u-1", BankToken: "bnk_1"})
	ewd, err := b.client.GetWithdrawer(t.Context(), "u-1")
	require.NoError(t, err)
	require.Equal(t, b.srv.MerchantObjectID(), ewd.Merchant.ID)
	snap, ok := b.srv.Withdrawer("u-1")
	require.True(t, ok)
	require.Equal(t, snap.ID, ewd.ID)
}
