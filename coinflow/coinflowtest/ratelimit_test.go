package coinflowtest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/coinflow/coinflowtest"
)

// step is one request of a rate-limit script, after moving the clock.
type step struct {
	advance    time.Duration
	method     string
	path       string
	user       string // x-coinflow-auth-user-id, if any
	body       any
	status     int
	retryAfter string // of a 429
}

func kycStep(user string, status int, retry string) step {
	return step{method: http.MethodPost, path: "/withdraw/kyc", user: user,
		body: map[string]any{"email": user + "@example.com", "country": "DE"}, status: status, retryAfter: retry}
}

func notFoundStep(status int, retry string) step {
	return step{method: http.MethodGet, path: "/merchant/withdraws/no-such-withdraw", status: status, retryAfter: retry}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	repeat := func(n int, s step) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	cat := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	getPending := step{method: http.MethodGet, path: "/withdraw", user: "u-pending", status: 451}
	getApproved := step{method: http.MethodGet, path: "/withdraw", user: "u-ok", status: 200}
	for _, tc := range []struct {
		name    string
		enforce bool
		steps   []step
		want    coinflowtest.RateLimitStats
	}{
		{"three KYC calls a minute, the fourth throttled", true, cat(
			[]step{kycStep("u-a", 451, ""), kycStep("u-b", 451, ""), kycStep("u-c", 451, ""), kycStep("u-d", 429, "60")},
			[]step{{advance: 30 * time.Second, method: http.MethodPost, path: "/withdraw/kyc", user: "u-d",
				body: map[string]any{"email": "d@example.com", "country": "DE"}, status: 429, retryAfter: "30"}},
			[]step{{advance: 30 * time.Second, method: http.MethodPost, path: "/withdraw/kyc", user: "u-d",
				body: map[string]any{"email": "d@example.com", "country": "DE"}, status: 451}},
		), coinflowtest.RateLimitStats{KYCCalls: 6, Throttled: 2, MaxKYCPerMinute: 5}},
		{"GET /withdraw answered 451 is a KYC call, answered 200 is not", true, cat(
			repeat(3, getPending), repeat(5, getApproved),
			[]step{{method: http.MethodGet, path: "/withdraw", user: "u-pending", status: 429, retryAfter: "60"}},
			[]step{kycStep("u-a", 429, "60")},
			[]step{{advance: 59 * time.Second, method: http.MethodGet, path: "/withdraw", user: "u-pending", status: 429, retryAfter: "1"}},
			[]step{{advance: time.Second, method: http.MethodGet, path: "/withdraw", user: "u-pending", status: 451}},
		), coinflowtest.RateLimitStats{KYCCalls: 7, Throttled: 3, MaxKYCPerMinute: 6}},
		{"ten 404s in ten seconds, the eleventh throttled", true, cat(
			repeat(9, notFoundStep(404, "")),
			[]step{{method: http.MethodGet, path: "/withdraw", user: "u-nobody", status: 404}}, // any operation's 404 counts
			[]step{notFoundStep(429, "10")},
			[]step{{advance: 9*time.Second + 500*time.Millisecond, method: http.MethodGet, path: "/merchant/withdraws/x", status: 429, retryAfter: "1"}},
			[]step{{advance: 500 * time.Millisecond, method: http.MethodGet, path: "/merchant/withdraws/x", status: 404}},
			[]step{{method: http.MethodGet, path: "/merchant/withdraws/payout/balance", status: 200}},
		), coinflowtest.RateLimitStats{NotFound: 13, Throttled: 2, MaxNotFoundPer10s: 12}},
		{"not enforced: counted, never throttled", false, cat(
			repeat(5, kycStep("u-a", 451, "")),
			repeat(12, notFoundStep(404, "")),
			[]step{{advance: time.Minute, method: http.MethodPost, path: "/withdraw/kyc", user: "u-a",
				body: map[string]any{"email": "a@example.com", "country": "DE"}, status: 451}},
		), coinflowtest.RateLimitStats{KYCCalls: 6, NotFound: 12, MaxKYCPerMinute: 5, MaxNotFoundPer10s: 12}},
		{"spaced calls stay within the limits", true, cat(
			[]step{kycStep("u-a", 451, ""), kycStep("u-b", 451, "")},
			[]step{{advance: 20 * time.Second, method: http.MethodPost, path: "/withdraw/kyc", user: "u-c",
				body: map[string]any{"email": "c@example.com", "country": "DE"}, status: 451}},
			[]step{{advance: 40 * time.Second, method: http.MethodPost, path: "/withdraw/kyc", user: "u-d",
				body: map[string]any{"email": "dd@example.com", "country": "DE"}, status: 451}},
			repeat(10, notFoundStep(404, "")),
		), coinflowtest.RateLimitStats{KYCCalls: 4, NotFound: 10, MaxKYCPerMinute: 3, MaxNotFoundPer10s: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{opts: coinflowtest.Options{EnforceRateLimits: tc.enforce}})
			b.addUser(t, "u-ok")
			_, err := b.srv.AddWithdrawer(coinflowtest.WithdrawerSpec{UserID: "u-pending", Verification: "pending"})
			require.NoError(t, err)
			for i, s := range tc.steps {
				b.srv.Advance(s.advance)
				var hdr []string
				if s.user != "" {
					hdr = []string{"x-coinflow-auth-user-id", s.user}
				}
				r := b.call(t, s.method, s.path, s.body, hdr...)
				require.Equal(t, s.status, r.Status, "step %d %s %s: %s", i, s.method, s.path, r.Body)
				if s.status == http.StatusTooManyRequests {
					require.Equal(t, "Too many requests", r.msg(t))
					require.Equal(t, s.retryAfter, r.Header.Get("Retry-After"), "step %d", i)
				}
			}
			require.Equal(t, tc.want, b.srv.RateLimitStats())

			var s struct {
				RateLimits coinflowtest.RateLimitStats `json:"rateLimits"`
			}
			b.call(t, http.MethodGet, "/_sim/state", nil).decode(t, &s)
			require.Equal(t, tc.want, s.RateLimits)
		})
	}
}

func TestThrottledKYCCreatesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{opts: coinflowtest.Options{EnforceRateLimits: true}})
	for _, u := range []string{"u-a", "u-b", "u-c"} {
		require.Equal(t, http.StatusUnavailableForLegalReasons, b.call(t, http.MethodPost, "/withdraw/kyc", kycStep(u, 0, "").body, "x-coinflow-auth-user-id", u).Status)
	}
	r := b.call(t, http.MethodPost, "/withdraw/kyc", usInfo(nil), "x-coinflow-auth-user-id", "u-d")
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	_, ok := b.srv.Withdrawer("u-d")
	require.False(t, ok)
	b.wait(t)
	require.Len(t, b.hook.all(), 3, "three KYC Created, none for the throttled call")
	require.Equal(t, 4, b.srv.Calls(coinflowtest.OpKYC), "a throttled call is still a call")
}
