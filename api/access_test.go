package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/api"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// The tokens of the access tests: the single api.token and two named ones.
const (
	singleToken = "single-api-token-0001"
	aliceToken  = "alice-token-0123456789"
	bobToken    = "bob-token-9876543210ab"
)

var accessTokens = []principal.Token{
	{Name: principal.APIToken, Secret: []byte(singleToken)},
	{Name: "alice", Secret: []byte(aliceToken)},
	{Name: "bob", Secret: []byte(bobToken)},
}

func TestAPINamedTokens(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, apiT0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		base, _ := startRouterWith(t, store, clock, api.Deps{Tokens: accessTokens})
		ackURL := func(id string) string { return base + "/api/v1/findings/" + id + "/acknowledge" }

		for _, tok := range accessTokens {
			f := raise(t, store, models.KindStuckPayout, "p-"+tok.Name, models.SeverityWarning, "p-"+tok.Name)
			auth := "Bearer " + string(tok.Secret)
			code, b := send(t, http.MethodGet, base+"/api/v1/findings", auth, "")
			require.Equal(t, http.StatusOK, code, "%s: %s", tok.Name, b)

			code, b = send(t, http.MethodPost, ackURL(f.ID), auth, `{"note":"seen"}`)
			require.Equal(t, http.StatusOK, code, "%s: %s", tok.Name, b)
			var view findingJSON
			mustJSON(t, b, &view)
			require.Equal(t, tok.Name, *view.AcknowledgedBy, "the answer names the token")
			got, err := store.FindingGet(t.Context(), f.ID)
			require.NoError(t, err)
			require.Equal(t, tok.Name, *got.AcknowledgedBy, "the stored acknowledgement names the token")
		}

		f := raise(t, store, models.KindStuckPayout, "p-unknown", models.SeverityWarning, "p-unknown")
		for _, auth := range []string{"Bearer unknown-token-0123456", "Bearer alice", "Bearer " + aliceToken + bobToken, "Bearer " + strings.ToUpper(aliceToken)} {
			code, b := send(t, http.MethodPost, ackURL(f.ID), auth, `{"note":"x"}`)
			require.Equal(t, http.StatusUnauthorized, code, "%q: %s", auth, b)
			requireError(t, b, "unauthorized")
			require.NotContains(t, string(b), "alice", "a refusal names no token")
		}
		got, err := store.FindingGet(t.Context(), f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingOpen, got.Status, "an unknown token changes nothing")

		// Named tokens alone, without api.token, are enough.
		named, _ := startRouterWith(t, store, clock, api.Deps{Tokens: accessTokens[1:]})
		code, b := send(t, http.MethodPost, named+"/api/v1/findings/"+f.ID+"/acknowledge", "Bearer "+bobToken, `{"note":"bob looked"}`)
		require.Equal(t, http.StatusOK, code, "%s", b)
		got, err = store.FindingGet(t.Context(), f.ID)
		require.NoError(t, err)
		require.Equal(t, "bob", *got.AcknowledgedBy)
		code, _ = send(t, http.MethodGet, named+"/api/v1/findings", "Bearer "+singleToken, "")
		require.Equal(t, http.StatusUnauthorized, code, "a token that is not configured")
	})
}

// countLimited reads payoutd_rate_limited_total{route}.
func countLimited(t *testing.T, m *metrics.Metrics, route string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "payoutd_rate_limited_total" {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "route" && l.GetValue() == route {
					return s.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	clock := dbtest.NewClock(apiT0)
	store := dbtest.SQLite(t, dbtest.Options{NowFunc: clock.Now})
	m := metrics.New()
	// Two a second, five at once.
	base, _ := startRouterWith(t, store, clock, api.Deps{
		Tokens: accessTokens, Metrics: m, RateLimit: api.RateLimit{APIPerSecond: 2, APIBurst: 5},
	})
	list := base + "/api/v1/findings"
	auth := "Bearer " + aliceToken

	limited := func(why string) {
		t.Helper()
		code, h, b := request(t, http.MethodGet, list, auth, "", "")
		require.Equal(t, http.StatusTooManyRequests, code, "%s: %s", why, b)
		e := requireError(t, b, "rate_limited")
		require.Contains(t, e.Error.Message, "Retry-After")
		require.Equal(t, "1", h.Get("Retry-After"), "%s: whole seconds, rounded up", why)
	}
	allowed := func(why string) {
		t.Helper()
		code, _, b := request(t, http.MethodGet, list, auth, "", "")
		require.Equal(t, http.StatusOK, code, "%s: %s", why, b)
	}
	for i := range 5 {
		allowed("burst " + string(rune('1'+i)))
	}
	limited("the sixth at once")
	// A request without a valid token spends the bucket too, and is refused
	// before its token is looked at.
	code, _, b := request(t, http.MethodGet, list, "Bearer wrong", "", "")
	require.Equal(t, http.StatusTooManyRequests, code, "%s", b)

	clock.Advance(499 * time.Millisecond)
	limited("a token takes 500 ms to come back")
	clock.Advance(time.Millisecond)
	allowed("refilled one")
	limited("and only one")
	clock.Advance(time.Second)
	allowed("a second gives two")
	allowed("a second gives two")
	limited("but not three")
	clock.Advance(time.Hour)
	for range 5 {
		allowed("a full bucket after a long pause")
	}
	limited("never more than the burst")
	require.Equal(t, 6.0, countLimited(t, m, "/api/v1/findings"), "every 429 is counted by route")

	// The limit covers /api/v1 only: health, metrics and the login form answer.
	for _, path := range []string{"/healthz", "/metrics", "/login"} {
		code, _, _ := request(t, http.MethodGet, base+path, "", "", "")
		require.Equal(t, http.StatusOK, code, path)
	}
}

func TestAPIRateLimitOff(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	base, _ := startRouterWith(t, store, dbtest.NewClock(apiT0), api.Deps{Tokens: accessTokens})
	for i := range 300 {
		code, _, b := request(t, http.MethodGet, base+"/api/v1/findings", "Bearer "+aliceToken, "", "")
		require.Equal(t, http.StatusOK, code, "request %d: %s", i, b)
	}
}

// TestRateLimitClientIP checks who a client is: X-Forwarded-For is ignored
// from an untrusted peer (a client cannot pick a fresh bucket) and honoured
// from a trusted proxy (each client behind it has its own).
func TestRateLimitClientIP(t *testing.T) {
	t.Parallel()
	rl := api.RateLimit{APIPerSecond: 1, APIBurst: 2, LoginsPerMinute: 2}
	serve := func(t *testing.T, proxies []string) string {
		clock := dbtest.NewClock(apiT0)
		store := dbtest.SQLite(t, dbtest.Options{NowFunc: clock.Now})
		base, _ := startRouterWith(t, store, clock, api.Deps{Tokens: accessTokens, RateLimit: rl, TrustedProxies: proxies})
		return base
	}
	apiCall := func(t *testing.T, base, xff string) int {
		code, _, _ := request(t, http.MethodGet, base+"/api/v1/findings", "Bearer "+aliceToken, xff, "")
		return code
	}
	login := func(t *testing.T, base, xff, tok string) (int, *http.Cookie) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/login", strings.NewReader(url.Values{"token": {tok}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		for _, ck := range resp.Cookies() {
			if ck.Name == dashboardtest.CookieName {
				return resp.StatusCode, ck
			}
		}
		return resp.StatusCode, nil
	}

	t.Run("untrusted peer", func(t *testing.T) {
		t.Parallel()
		base := serve(t, nil)
		require.Equal(t, http.StatusOK, apiCall(t, base, "198.51.100.1"))
		require.Equal(t, http.StatusOK, apiCall(t, base, "198.51.100.2"))
		require.Equal(t, http.StatusTooManyRequests, apiCall(t, base, "198.51.100.3"), "another X-Forwarded-For is the same client")
		require.Equal(t, http.StatusTooManyRequests, apiCall(t, base, ""))

		for _, xff := range []string{"198.51.100.1", "198.51.100.2"} {
			code, _ := login(t, base, xff, "wrong-token")
			require.Equal(t, http.StatusUnauthorized, code)
		}
		code, ck := login(t, base, "198.51.100.9", aliceToken)
		require.Equal(t, http.StatusTooManyRequests, code, "the same client behind a made-up address")
		require.Nil(t, ck)
	})
	t.Run("trusted proxy", func(t *testing.T) {
		t.Parallel()
		base := serve(t, []string{"127.0.0.1/32", "::1"})
		require.Equal(t, http.StatusOK, apiCall(t, base, "198.51.100.1"))
		require.Equal(t, http.StatusOK, apiCall(t, base, "198.51.100.1"))
		require.Equal(t, http.StatusTooManyRequests, apiCall(t, base, "198.51.100.1"), "one client's bucket is empty")
		require.Equal(t, http.StatusOK, apiCall(t, base, "198.51.100.2"), "another client behind the proxy has its own")
		// The proxy appends the peer it saw: the client is the rightmost
		// address that is not a trusted proxy.
		require.Equal(t, http.StatusTooManyRequests, apiCall(t, base, "203.0.113.7, 198.51.100.1"), "a forged leftmost address changes nothing")
		// An IPv6 client is its /64: another address in it is the same client.
		require.Equal(t, http.StatusOK, apiCall(t, base, "2001:db8:0:1::1"))
		require.Equal(t, http.StatusOK, apiCall(t, base, "2001:db8:0:1::2"))
		require.Equal(t, http.StatusTooManyRequests, apiCall(t, base, "2001:db8:0:1:ffff::3"))
		require.Equal(t, http.StatusOK, apiCall(t, base, "2001:db8:0:2::1"), "another /64")

		for range 2 {
			code, _ := login(t, base, "198.51.100.1", "wrong-token")
			require.Equal(t, http.StatusUnauthorized, code)
		}
		code, ck := login(t, base, "198.51.100.1", aliceToken)
		require.Equal(t, http.StatusTooManyRequests, code)
		require.Nil(t, ck)
		code, ck = login(t, base, "198.51.100.2", aliceToken)
		require.Equal(t, http.StatusSeeOther, code, "another client logs in")
		require.NotNil(t, ck)
	})
}

// TestAPIBearerAuthAnswers requires one refusal for every wrong
// credential, whichever token it resembles, with an unset token among the
// configured ones matching nothing.
func TestAPIBearerAuthAnswers(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	base, _ := startRouterWith(t, store, dbtest.NewClock(apiT0), api.Deps{Tokens: append(accessTokens, principal.Token{Name: "unset"})})
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer " + singleToken[:len(singleToken)-1], "Token " + bobToken, bobToken} {
		code, _, b := request(t, http.MethodGet, base+"/api/v1/findings", auth, "", "")
		require.Equal(t, http.StatusUnauthorized, code, "%q: %s", auth, b)
		var e errorBody
		require.NoError(t, json.Unmarshal(b, &e))
		require.Equal(t, "missing or wrong API token", e.Error.Message)
	}
	code, _, b := request(t, http.MethodGet, base+"/api/v1/findings", "bearer "+bobToken, "", "")
	require.Equal(t, http.StatusOK, code, "the scheme is case-insensitive: %s", b)
}
