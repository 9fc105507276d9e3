package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/metrics"
	"github.com/payoutd/payoutd/models"
)

// openFindings returns n open findings of the fixture.
func openFindings(t *testing.T, fx *dashboardtest.Fixture, n int) []*models.Finding {
	t.Helper()
	var out []*models.Finding
	for _, f := range fx.Findings {
		if f.Status == models.FindingOpen && len(out) < n {
			out = append(out, f)
		}
	}
	require.Len(t, out, n, "the fixture has too few open findings")
	return out
}

// acknowledge posts the acknowledge form for f with c's CSRF token.
func acknowledge(t *testing.T, c *dashboardtest.Client, f *models.Finding, header http.Header) dashboardtest.Response {
	t.Helper()
	csrf := dashboardtest.CSRF(t, c.Get(t, "/findings").Body)
	return c.Do(t, http.MethodPost, "/findings/"+f.ID+"/acknowledge", url.Values{"csrf": {csrf}, "note": {"seen"}}, header)
}

func TestDashboardNamedTokens(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		fs := openFindings(t, e.Fx, 4)
		for i, tok := range tokens {
			c := dashboardtest.Login(t, e.URL, string(tok.Secret))
			page := c.Get(t, "/")
			require.Equal(t, http.StatusOK, page.Status)
			require.Contains(t, page.Body, "Signed in as <strong>"+tok.Name+"</strong>", "the layout names who is logged in")

			resp := acknowledge(t, c, fs[i], nil)
			require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
			got, err := e.Store.FindingGet(ctx, fs[i].ID)
			require.NoError(t, err)
			require.Equal(t, models.FindingAcknowledged, got.Status)
			require.Equal(t, tok.Name, *got.AcknowledgedBy, "the acknowledgement names the token")
		}

		resp := dashboardtest.NewClient(e.URL).PostForm(t, "/login", url.Values{"token": {"unknown-token-0123456"}})
		require.Equal(t, http.StatusUnauthorized, resp.Status)
		require.Nil(t, dashboardtest.SessionCookie(t, resp))

		alice := dashboardtest.Login(t, e.URL, aliceToken)
		bob := dashboardtest.Login(t, e.URL, bobToken)
		csrf := dashboardtest.CSRF(t, alice.Get(t, "/findings").Body)
		victim := fs[3]

		// The same database served with alice's token removed, and with her
		// token changed: her sessions end, and her forms change nothing.
		for name, ts := range map[string][]principal.Token{
			"removed": {tokens[0], tokens[2]},
			"changed": {tokens[0], {Name: "alice", Secret: []byte("alice-new-token-0123456")}, tokens[2]},
		} {
			u, _ := serve(t, e.Store, e.Clock, dashboard.Deps{Tokens: ts})
			gone := *alice
			gone.BaseURL = u
			resp = gone.Get(t, "/")
			require.Equal(t, http.StatusSeeOther, resp.Status, name)
			require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"), name)
			resp = gone.PostForm(t, "/findings/"+victim.ID+"/acknowledge", url.Values{"csrf": {csrf}, "note": {"late"}})
			require.Equal(t, http.StatusForbidden, resp.Status, name)
			got, err := e.Store.FindingGet(ctx, victim.ID)
			require.NoError(t, err)
			require.Equal(t, models.FindingOpen, got.Status, name)

			stays := *bob
			stays.BaseURL = u
			page := stays.Get(t, "/")
			require.Equal(t, http.StatusOK, page.Status, "%s: another token's session stays", name)
			require.Contains(t, page.Body, "Signed in as <strong>bob</strong>")
		}
		require.Equal(t, http.StatusOK, alice.Get(t, "/").Status, "where alice's token is still configured her session works")
	})
}

func TestDashboardLoginRateLimit(t *testing.T) {
	t.Parallel()
	dbtest.EachAt(t, t0, func(t *testing.T, store *models.Store, clock *dbtest.Clock) {
		m := metrics.New()
		limits := m.NewRateLimit()
		u, _ := serve(t, store, clock, dashboard.Deps{Tokens: tokens, RateLimit: limits})
		anon := dashboardtest.NewClient(u)
		bad := func(why string) {
			t.Helper()
			resp := anon.PostForm(t, "/login", url.Values{"token": {"guess-" + why}})
			require.Equal(t, http.StatusUnauthorized, resp.Status, why)
			require.Nil(t, dashboardtest.SessionCookie(t, resp), why)
		}
		refused := func(why, retryAfter string) {
			t.Helper()
			resp := anon.PostForm(t, "/login", url.Values{"token": {aliceToken}})
			require.Equal(t, http.StatusTooManyRequests, resp.Status, why)
			require.Equal(t, retryAfter, resp.Header.Get("Retry-After"), why)
			require.Nil(t, dashboardtest.SessionCookie(t, resp), "%s: no session, though the token is right", why)
			require.Contains(t, resp.Body, "Too many failed logins", why)
		}
		good := func() *dashboardtest.Client {
			t.Helper()
			return dashboardtest.Login(t, u, aliceToken)
		}

		for i := range 9 {
			bad("failure " + string(rune('1'+i)))
		}
		session := good() // a right token does not count as a failure
		bad("the tenth failure")
		refused("the eleventh attempt within the minute", "6")
		clock.Advance(5 * time.Second)
		refused("a slot frees 6 s after the burst", "1")
		require.Equal(t, http.StatusOK, session.Get(t, "/").Status, "a session goes on while logins are refused")
		clock.Advance(time.Second)
		good() // a slot is free again
		bad("and a failure takes it")
		refused("until the next one", "6")

		clock.Advance(time.Minute)
		for i := range 10 {
			bad("a new minute " + string(rune('a'+i)))
		}
		refused("ten failures again", "6")
		clock.Advance(time.Minute)
		good() // after the window

		mfs, err := m.Registry.Gather()
		require.NoError(t, err)
		var counted float64
		for _, mf := range mfs {
			if mf.GetName() == "payoutd_rate_limited_total" {
				for _, s := range mf.GetMetric() {
					require.Equal(t, "/login", s.GetLabel()[0].GetValue())
					counted += s.GetCounter().GetValue()
				}
			}
		}
		require.Equal(t, 4.0, counted, "every refusal is counted")
	})
}

func TestDashboardOriginCheck(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		host := strings.TrimPrefix(e.URL, "http://")
		f := openFindings(t, e.Fx, 1)[0]
		c := dashboardtest.Login(t, e.URL, aliceToken)
		for _, origin := range []string{
			"https://evil.example", "null", "https://" + host, "http://" + host + ".evil.example", "http://" + host + "/", "",
		} {
			resp := acknowledge(t, c, f, http.Header{"Origin": {origin}})
			require.Equal(t, http.StatusForbidden, resp.Status, "Origin %q", origin)
			require.Contains(t, resp.Body, "nothing was changed")
			got, err := e.Store.FindingGet(ctx, f.ID)
			require.NoError(t, err)
			require.Equal(t, models.FindingOpen, got.Status, "Origin %q", origin)

			resp = c.Do(t, http.MethodPost, "/logout", url.Values{"csrf": {dashboardtest.CSRF(t, c.Get(t, "/").Body)}}, http.Header{"Origin": {origin}})
			require.Equal(t, http.StatusForbidden, resp.Status, "logout, Origin %q", origin)

			resp = dashboardtest.NewClient(e.URL).Do(t, http.MethodPost, "/login", url.Values{"token": {aliceToken}}, http.Header{"Origin": {origin}})
			require.Equal(t, http.StatusForbidden, resp.Status, "login, Origin %q", origin)
			require.Nil(t, dashboardtest.SessionCookie(t, resp))
		}
		// Under no-referrer a browser sends "Origin: null" with every form
		// (found by the browser test): the pages let it send their origin,
		// and still give other sites no Referer.
		page := c.Get(t, "/findings")
		require.Equal(t, "same-origin", page.Header.Get("Referrer-Policy"))
		require.Contains(t, page.Body, `<meta name="referrer" content="same-origin">`)

		resp := acknowledge(t, c, f, http.Header{"Origin": {"https://evil.example", e.URL}})
		require.Equal(t, http.StatusForbidden, resp.Status, "two Origin headers")

		// Its own origin, in any case, is this dashboard.
		resp = dashboardtest.NewClient(e.URL).Do(t, http.MethodPost, "/login", url.Values{"token": {aliceToken}}, http.Header{"Origin": {e.URL}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.NotNil(t, dashboardtest.SessionCookie(t, resp))
		resp = acknowledge(t, c, f, http.Header{"Origin": {strings.ToUpper(e.URL)}, "Sec-Fetch-Site": {"same-origin"}})
		require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
		got, err := e.Store.FindingGet(ctx, f.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingAcknowledged, got.Status)

		// Behind a TLS terminator (Secure cookies) the browser's origin is
		// https, while the request arrives here over plain HTTP.
		secure, _ := serve(t, e.Store, e.Clock, dashboard.Deps{Tokens: tokens, SecureCookies: true})
		resp = dashboardtest.NewClient(secure).Do(t, http.MethodPost, "/login", url.Values{"token": {aliceToken}},
			http.Header{"Origin": {"https://" + strings.TrimPrefix(secure, "http://")}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.True(t, dashboardtest.SessionCookie(t, resp).Secure)
		resp = dashboardtest.NewClient(secure).Do(t, http.MethodPost, "/login", url.Values{"token": {aliceToken}},
			http.Header{"Origin": {"https://evil.example"}})
		require.Equal(t, http.StatusForbidden, resp.Status)
	})
}

func TestDashboardSecureCookiesConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode, listen string
		want         bool
	}{
		{"true", "127.0.0.1:8080", true},
		{"true", "0.0.0.0:8080", true},
		{"false", "0.0.0.0:8080", false},
		{"false", "10.0.0.5:8080", false},
		{"auto", "127.0.0.1:8080", false},
		{"auto", "127.3.2.1:80", false},
		{"auto", "[::1]:8080", false},
		{"auto", "localhost:8080", false},
		{"auto", "LOCALHOST:8080", false},
		{"auto", ":8080", true},
		{"auto", "0.0.0.0:8080", true},
		{"auto", "[::]:8080", true},
		{"auto", "10.0.0.5:8080", true},
		{"auto", "payoutd.internal:8080", true},
		{"auto", "localhost.evil.example:8080", true},
	} {
		require.Equal(t, tc.want, dashboard.SecureCookies(tc.mode, tc.listen), "%s on %s", tc.mode, tc.listen)
	}
}
