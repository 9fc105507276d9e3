package dashboard

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/payoutd/payoutd/internal/principal"
	"github.com/payoutd/payoutd/internal/ratelimit"
)

// cookieName is the session cookie's name.
const cookieName = "payoutd_session"

// sessionKey is where requireSession leaves the checked session value.
const sessionKey = "dashboard.session"

// requireToken answers 503 while no API token is configured: without one
// nobody could log in, and nothing may be shown unauthenticated.
func (h *handler) requireToken(c *gin.Context) {
	if !h.sessions.configured() {
		c.Data(http.StatusServiceUnavailable, "text/plain; charset=utf-8", []byte("api token not configured\n"))
		c.Abort()
		return
	}
	c.Next()
}

// currentSession returns the request's session value, and the name of the
// token it logged in with, when it is valid.
func (h *handler) currentSession(c *gin.Context) (value, name string, ok bool) {
	v, err := c.Cookie(cookieName)
	if err != nil {
		return "", "", false
	}
	name, ok = h.sessions.valid(v, h.now())
	if !ok {
		return "", "", false
	}
	return v, name, true
}

// setSession records a valid session in c: its value for the CSRF check
// and its token's name as the request's principal.
func setSession(c *gin.Context, value, name string) {
	c.Set(sessionKey, value)
	principal.Set(c, name)
}

func sessionOf(c *gin.Context) string { return c.GetString(sessionKey) }

// requireSession lets a logged-in request through. A page request without a
// valid session is sent to the login form; any other request is refused with
// 403 and changes nothing.
func (h *handler) requireSession(c *gin.Context) {
	s, name, ok := h.currentSession(c)
	if ok {
		setSession(c, s, name)
		c.Next()
		return
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	h.fail(c, http.StatusForbidden, "Not logged in",
		"Your session is missing or has expired, so nothing was changed. Log in and try again.", "/login")
}

// requireCSRF refuses a form whose CSRF token is not the one derived from
// this session, and one that a browser says came from another site or
// origin.
func (h *handler) requireCSRF(c *gin.Context) {
	if h.checkCSRF(c) {
		c.Next()
	}
}

// checkCSRF answers 403 and reports false unless the form's CSRF token
// matches the session in c and the browser does not say it came from
// elsewhere.
func (h *handler) checkCSRF(c *gin.Context) bool {
	if !h.foreign(c) && h.sessions.csrfMatches(sessionOf(c), c.PostForm("csrf")) {
		return true
	}
	h.logger(c).WithField("route", c.FullPath()).Warn("dashboard form refused: bad csrf token")
	h.fail(c, http.StatusForbidden, "Form refused",
		"This form did not come from this dashboard or is out of date, so nothing was changed. Reload the page and try again.", "/")
	return false
}

// foreign reports whether the browser says the request was sent by a page
// of another site or origin: a cross-site Sec-Fetch-Site (Fetch Metadata),
// or an Origin header that is not this dashboard's own. Older browsers send
// neither, and the CSRF token still guards them.
func (h *handler) foreign(c *gin.Context) bool {
	if c.GetHeader("Sec-Fetch-Site") == "cross-site" {
		return true
	}
	origins, sent := c.Request.Header["Origin"]
	if !sent {
		return false
	}
	// "null" (a sandboxed frame, a file, a redirect across origins) is
	// never this dashboard, nor is a header sent twice.
	return len(origins) != 1 || !h.ownOrigin(c, origins[0])
}

// ownOrigin reports whether origin is this dashboard's: the scheme and
// host the request came to. Without TLS here it is http, and also https
// when the cookies are Secure: payoutd is then reached over HTTPS through a
// TLS terminator, which must pass the Host header through.
func (h *handler) ownOrigin(c *gin.Context, origin string) bool {
	host := c.Request.Host
	if host == "" {
		return false
	}
	if c.Request.TLS != nil {
		return strings.EqualFold(origin, "https://"+host)
	}
	return strings.EqualFold(origin, "http://"+host) || (h.secure && strings.EqualFold(origin, "https://"+host))
}

type loginPage struct {
	Next  string
	Error string
}

func (h *handler) loginForm(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if _, _, ok := h.currentSession(c); ok {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	h.render(c, http.StatusOK, "login", view{Title: "Log in", Data: loginPage{Next: next}})
}

// login checks the token and starts a session under its name. Each client
// may fail Deps.LoginsPerMinute times a minute: every attempt takes a slot
// first, and only a right token gives it back, so that while the slots are
// spent even the right token is refused (429) and guessing learns nothing.
func (h *handler) login(c *gin.Context) {
	next := safeNext(c.PostForm("next"))
	if h.foreign(c) {
		h.fail(c, http.StatusForbidden, "Form refused", "This login form did not come from this dashboard.", "/login")
		return
	}
	refund, wait, ok := h.logins.Take(ratelimit.ClientKey(c.ClientIP()), h.now())
	if !ok {
		if h.limited != nil {
			h.limited.Limited.WithLabelValues(c.FullPath()).Inc()
		}
		h.logger(c).Warn("dashboard login refused: too many failed logins")
		c.Header("Retry-After", strconv.Itoa(ratelimit.RetryAfter(wait)))
		h.render(c, http.StatusTooManyRequests, "login", view{Title: "Log in", Data: loginPage{
			Next: next, Error: "Too many failed logins from here. Wait a minute and try again.",
		}})
		return
	}
	name, ok := h.sessions.login(c.PostForm("token"))
	if !ok {
		h.logger(c).Warn("dashboard login refused")
		h.render(c, http.StatusUnauthorized, "login", view{Title: "Log in", Data: loginPage{Next: next, Error: "That is not the API token."}})
		return
	}
	refund()
	h.logger(c).WithField("principal", name).Info("dashboard login")
	h.setCookie(c, h.sessions.issue(name, h.now()), int(sessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session in this browser. With a valid session it needs
// the CSRF token, so that another site cannot log the user out; without
// one there is nothing to protect and the cookie is cleared.
func (h *handler) logout(c *gin.Context) {
	s, name, ok := h.currentSession(c)
	if ok {
		setSession(c, s, name)
		if !h.checkCSRF(c) {
			return
		}
	}
	h.setCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

// setCookie writes the session cookie. Its lifetime is Max-Age only: the
// signed expiry inside is what the server trusts, and a browser clock that
// is off must not drop the cookie early. It is Secure when the request came
// over TLS or the configuration says payoutd is reached over HTTPS (see
// SecureCookies); any other cookie the dashboard sets must follow the same
// rule.
func (h *handler) setCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   h.secure || c.Request.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	})
}

// safeNext keeps a post-login redirect on this site: a path, never a
// scheme-relative or absolute URL.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/login") {
		return "/"
	}
	return next
}

// SecureCookies decides dashboard.secure_cookies: "true" always, "false"
// never (a request over TLS still gets Secure cookies), and "auto" unless
// payoutd listens on loopback only, where it is reached without TLS.
func SecureCookies(mode, listen string) bool {
	switch mode {
	case "true":
		return true
	case "auto":
		return !loopbackOnly(listen)
	}
	return false
}

// loopbackOnly reports whether the listen address accepts loopback
// connections only: 127.0.0.0/8, ::1 or localhost. An empty host or an
// unspecified address (0.0.0.0, ::) listens everywhere.
func loopbackOnly(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newLoginLimiter allows perMinute failed logins a minute per client: that
// many at once, then one more each 1/perMinute of a minute.
func newLoginLimiter(perMinute int) *ratelimit.Limiter {
	return ratelimit.New(ratelimit.Config{Every: time.Minute / time.Duration(perMinute), Burst: perMinute})
}
