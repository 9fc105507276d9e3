package dashboard_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/dashboard"
	"github.com/payoutd/payoutd/dashboard/dashboardtest"
	"github.com/payoutd/payoutd/internal/dbtest"
	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/models"
)

func TestDashboardTokenNotConfigured(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	u, _ := serve(t, store, dbtest.NewClock(t0), dashboard.Deps{})
	c := dashboardtest.NewClient(u)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/"}, {http.MethodGet, "/login"}, {http.MethodPost, "/login"},
		{http.MethodGet, "/findings"}, {http.MethodPost, "/logout"},
	} {
		resp := c.Do(t, r.method, r.path, url.Values{"token": {""}}, nil)
		require.Equal(t, http.StatusServiceUnavailable, resp.Status, "%s %s", r.method, r.path)
		require.Equal(t, "api token not configured\n", resp.Body)
		require.Nil(t, dashboardtest.SessionCookie(t, resp))
	}
}

func TestDashboardLoginAndSession(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		anon := dashboardtest.NewClient(e.URL)

		for path, next := range map[string]string{
			"/": "/", "/findings?status=open": "/findings?status=open", "/payouts/x": "/payouts/x",
			"/withdrawers?status=pending": "/withdrawers?status=pending", "/withdrawers/" + dashboardtest.PendingUser: "/withdrawers/" + dashboardtest.PendingUser,
		} {
			resp := anon.Get(t, path)
			require.Equal(t, http.StatusSeeOther, resp.Status, path)
			require.Equal(t, "/login?next="+url.QueryEscape(next), resp.Header.Get("Location"))
			require.NotContains(t, resp.Body, "Overview")
			require.NotContains(t, resp.Body, "verify.coinflow.example")
		}

		resp := anon.Get(t, "/login")
		require.Equal(t, http.StatusOK, resp.Status)
		require.Contains(t, resp.Body, `name="token"`)
		require.Contains(t, resp.Body, `type="password"`)

		for _, wrong := range []string{"", "dash-test-token", token + "x", strings.ToUpper(token), "alice"} {
			resp = anon.PostForm(t, "/login", url.Values{"token": {wrong}})
			require.Equal(t, http.StatusUnauthorized, resp.Status, "token %q", wrong)
			require.Nil(t, dashboardtest.SessionCookie(t, resp))
			require.Contains(t, resp.Body, "not the API token")
			require.NotContains(t, resp.Body, token)
		}

		resp = anon.PostForm(t, "/login", url.Values{"token": {token}, "next": {"/findings?status=open"}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.Equal(t, "/findings?status=open", resp.Header.Get("Location"))
		ck := dashboardtest.SessionCookie(t, resp)
		require.NotNil(t, ck)
		require.True(t, ck.HttpOnly, "HttpOnly")
		require.False(t, ck.Secure, "not Secure over plain HTTP without SecureCookies")
		require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
		require.Equal(t, "/", ck.Path)
		require.Equal(t, int((12 * time.Hour).Seconds()), ck.MaxAge)
		require.NotContains(t, ck.Value, token)

		for _, evil := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/login?next=/"} {
			resp = anon.PostForm(t, "/login", url.Values{"token": {token}, "next": {evil}})
			require.Equal(t, http.StatusSeeOther, resp.Status)
			require.Equal(t, "/", resp.Header.Get("Location"), "next %q", evil)
		}

		c := dashboardtest.Login(t, e.URL, token)
		resp = c.Get(t, "/")
		require.Equal(t, http.StatusOK, resp.Status)
		require.Contains(t, resp.Body, "<h1>Overview</h1>")
		resp = c.Get(t, "/login")
		require.Equal(t, http.StatusSeeOther, resp.Status, "logged in: the form sends you on")

		// A tampered cookie, or one signed under another token, is no session.
		tampered := *c
		flip := "A"
		if strings.HasSuffix(c.Session, "A") {
			flip = "B"
		}
		tampered.Session = c.Session[:len(c.Session)-1] + flip
		require.Equal(t, http.StatusSeeOther, tampered.Get(t, "/").Status)
		forged := tampered
		forged.Session = "v1.9999999999.AAAA.AAAA"
		require.Equal(t, http.StatusSeeOther, forged.Get(t, "/").Status)

		rotated, _ := serve(t, e.Store, e.Clock, dashboard.Deps{Tokens: []principal.Token{{Name: principal.APIToken, Secret: []byte("a-new-token-after-rotation")}}})
		old := *c
		old.BaseURL = rotated
		require.Equal(t, http.StatusSeeOther, old.Get(t, "/").Status, "rotating the token ends the session")

		// Sessions last twelve hours by the server's clock.
		e.Clock.Advance(12*time.Hour - time.Minute)
		require.Equal(t, http.StatusOK, c.Get(t, "/").Status)
		e.Clock.Advance(2 * time.Minute)
		resp = c.Get(t, "/")
		require.Equal(t, http.StatusSeeOther, resp.Status, "expired")
		require.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/login"))
	})
}

func TestDashboardSecureCookie(t *testing.T) {
	t.Parallel()
	store := dbtest.SQLite(t, dbtest.Options{})
	clock := dbtest.NewClock(t0)

	u, _ := serve(t, store, clock, dashboard.Deps{Tokens: tokens, SecureCookies: true})
	resp := dashboardtest.NewClient(u).PostForm(t, "/login", url.Values{"token": {token}})
	require.Equal(t, http.StatusSeeOther, resp.Status)
	require.True(t, dashboardtest.SessionCookie(t, resp).Secure, "SecureCookies")

	// Over TLS the cookie is Secure without being told.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	dashboard.Register(r, dashboard.Deps{Store: store, Tokens: tokens, NowFunc: clock.Now})
	srv := httptest.NewTLSServer(r)
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.PostForm(srv.URL+"/login", url.Values{"token": {token}})
	require.NoError(t, err)
	require.NoError(t, res.Body.Close())
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	var secure bool
	for _, ck := range res.Cookies() {
		if ck.Name == dashboardtest.CookieName {
			secure = ck.Secure
		}
	}
	require.True(t, secure, "TLS")
}

func TestDashboardLogout(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		c := dashboardtest.Login(t, e.URL, token)
		page := c.Get(t, "/")
		csrf := dashboardtest.CSRF(t, page.Body)
		require.Contains(t, page.Body, `action="/logout"`)

		for _, bad := range []url.Values{{}, {"csrf": {"forged"}}, {"csrf": {csrf + "x"}}} {
			resp := c.PostForm(t, "/logout", bad)
			require.Equal(t, http.StatusForbidden, resp.Status, "csrf %q", bad.Get("csrf"))
			require.Nil(t, dashboardtest.SessionCookie(t, resp), "the cookie stays")
		}
		resp := c.Do(t, http.MethodPost, "/logout", url.Values{"csrf": {csrf}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		require.Equal(t, http.StatusForbidden, resp.Status, "a cross-site post")
		require.GreaterOrEqual(t, c.Get(t, "/logout").Status, 400, "GET changes nothing")
		require.Equal(t, http.StatusOK, c.Get(t, "/").Status)

		resp = c.PostForm(t, "/logout", url.Values{"csrf": {csrf}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.Equal(t, "/login", resp.Header.Get("Location"))
		ck := dashboardtest.SessionCookie(t, resp)
		require.NotNil(t, ck)
		require.Empty(t, ck.Value)
		require.Negative(t, ck.MaxAge, "the browser drops the cookie")
		require.True(t, ck.HttpOnly)
		require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	})
}

func TestDashboardAcknowledgeCSRF(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		target := e.Fx.Open
		c := dashboardtest.Login(t, e.URL, token)
		page := c.Get(t, "/findings")
		require.Equal(t, http.StatusOK, page.Status)
		csrf := dashboardtest.CSRF(t, page.Body)
		path := "/findings/" + target.ID + "/acknowledge"
		require.Contains(t, page.Body, `action="`+path+`"`)

		other := dashboardtest.Login(t, e.URL, token)
		otherCSRF := dashboardtest.CSRF(t, other.Get(t, "/findings").Body)
		require.NotEqual(t, csrf, otherCSRF, "each session has its own token")

		unchanged := func(why string) {
			t.Helper()
			f, err := e.Store.FindingGet(ctx, target.ID)
			require.NoError(t, err)
			require.Equal(t, models.FindingOpen, f.Status, why)
			require.Nil(t, f.AckNote, why)
			require.Nil(t, f.AcknowledgedAt, why)
		}
		form := func(csrf string) url.Values {
			return url.Values{"csrf": {csrf}, "note": {"checked with Coinflow"}, "return": {"/findings"}}
		}
		for name, send := range map[string]func() dashboardtest.Response{
			"missing csrf":  func() dashboardtest.Response { return c.PostForm(t, path, url.Values{"note": {"x"}}) },
			"empty csrf":    func() dashboardtest.Response { return c.PostForm(t, path, form("")) },
			"forged csrf":   func() dashboardtest.Response { return c.PostForm(t, path, form("Zm9yZ2Vk")) },
			"truncated":     func() dashboardtest.Response { return c.PostForm(t, path, form(csrf[:len(csrf)-1])) },
			"another token": func() dashboardtest.Response { return c.PostForm(t, path, form(otherCSRF)) },
			"csrf in query": func() dashboardtest.Response {
				return c.PostForm(t, path+"?csrf="+url.QueryEscape(csrf), url.Values{"note": {"x"}})
			},
			"cross-site": func() dashboardtest.Response {
				return c.Do(t, http.MethodPost, path, form(csrf), http.Header{"Sec-Fetch-Site": {"cross-site"}})
			},
		} {
			resp := send()
			require.Equal(t, http.StatusForbidden, resp.Status, name)
			require.Contains(t, resp.Body, "nothing was changed", name)
			unchanged(name)
		}
		// No session at all, with a token that was valid for one.
		resp := dashboardtest.NewClient(e.URL).PostForm(t, path, form(csrf))
		require.Equal(t, http.StatusForbidden, resp.Status, "no session")
		unchanged("no session")
		// GET never changes state.
		require.GreaterOrEqual(t, c.Get(t, path+"?csrf="+url.QueryEscape(csrf)+"&note=x").Status, 400)
		unchanged("GET")
		// A note is required.
		resp = c.PostForm(t, path, url.Values{"csrf": {csrf}, "note": {"   "}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		unchanged("empty note")
		resp = c.PostForm(t, path, url.Values{"csrf": {csrf}, "note": {strings.Repeat("n", 2001)}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
		unchanged("long note")

		e.Clock.Advance(time.Minute)
		note := `<script>alert("pwned")</script> & <img src=x onerror=alert(1)>`
		// A typed name is not taken: the token's name is recorded.
		resp = c.PostForm(t, path, url.Values{
			"csrf": {csrf}, "note": {note}, "by": {"<b>ana</b>"}, "return": {"/findings?status=open&kind=status_mismatch"},
		})
		require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
		require.Equal(t, "/findings?acked="+target.ID+"&kind=status_mismatch&status=open", resp.Header.Get("Location"))
		f, err := e.Store.FindingGet(ctx, target.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingAcknowledged, f.Status)
		require.Equal(t, note, *f.AckNote)
		require.Equal(t, principal.APIToken, *f.AcknowledgedBy)
		require.Equal(t, e.Clock.Now(), f.AcknowledgedAt.UTC())
		require.Nil(t, f.ResolvedAt, "acknowledged stays unresolved")

		// The notice names only a finding that is acknowledged.
		require.Contains(t, c.Get(t, "/findings?acked="+target.ID).Body, "Finding <code>"+target.ID+"</code> acknowledged.")
		for _, id := range []string{"<b>all clear</b>", e.Fx.Resolved.ID, models.NewID()} {
			require.NotContains(t, c.Get(t, "/findings?acked="+url.QueryEscape(id)).Body, "acknowledged.</p>", id)
		}

		// The note is shown escaped wherever the finding appears.
		for _, p := range []string{"/findings?status=acknowledged", "/payouts/" + e.Fx.Search.ID, "/runs/" + e.Fx.Runs[len(e.Fx.Runs)-1].ID} {
			body := c.Get(t, p).Body
			require.Contains(t, body, html.EscapeString(note), p)
			require.NotContains(t, body, `<script>alert`, p)
			require.NotContains(t, body, `<img src=x`, p)
			require.NotContains(t, body, "ana</b>", p)
		}

		// A return address off the dashboard is replaced.
		second := e.Fx.Findings[0]
		for _, f := range e.Fx.Findings {
			if f.Status == models.FindingOpen && f.ID != target.ID {
				second = f
				break
			}
		}
		resp = c.PostForm(t, "/findings/"+second.ID+"/acknowledge", url.Values{"csrf": {csrf}, "note": {"ok"}, "return": {"https://evil.example/findings"}})
		require.Equal(t, http.StatusSeeOther, resp.Status)
		require.Equal(t, "/findings?acked="+second.ID, resp.Header.Get("Location"))
		got, err := e.Store.FindingGet(ctx, second.ID)
		require.NoError(t, err)
		require.Equal(t, principal.APIToken, *got.AcknowledgedBy)

		// A resolved finding cannot be acknowledged; an unknown one is 404.
		resp = c.PostForm(t, "/findings/"+e.Fx.Resolved.ID+"/acknowledge", url.Values{"csrf": {csrf}, "note": {"late"}})
		require.Equal(t, http.StatusConflict, resp.Status)
		got, err = e.Store.FindingGet(ctx, e.Fx.Resolved.ID)
		require.NoError(t, err)
		require.Equal(t, models.FindingResolved, got.Status)
		require.Nil(t, got.AckNote)
		resp = c.PostForm(t, "/findings/"+models.NewID()+"/acknowledge", url.Values{"csrf": {csrf}, "note": {"x"}})
		require.Equal(t, http.StatusNotFound, resp.Status)
	})
}
