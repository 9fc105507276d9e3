package dashboard

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
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

// currentSession returns the request's session value when it is valid.
func (h *handler) currentSession(c *gin.Context) (string, bool) {
	v, err := c.Cookie(cookieName)
	if err != nil || !h.sessions.valid(v, h.now()) {
		return "", false
	}
	return v, true
}

func sessionOf(c *gin.Context) string { return c.GetString(sessionKey) }

// requireSession lets a logged-in request through. A page request without a
// valid session is sent to the login form; any other request is refused with
// 403 and changes nothing.
func (h *handler) requireSession(c *gin.Context) {
	s, ok := h.currentSession(c)
	if ok {
		c.Set(sessionKey, s)
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
// this session, and one that a browser says came from another site.
func (h *handler) requireCSRF(c *gin.Context) {
	if h.checkCSRF(c) {
		c.Next()
	}
}

// checkCSRF answers 403 and reports false unless the form's CSRF token
// matches the session in c.
func (h *handler) checkCSRF(c *gin.Context) bool {
	if !crossSite(c) && h.sessions.csrfMatches(sessionOf(c), c.PostForm("csrf")) {
		return true
	}
	h.logger(c).WithField("route", c.FullPath()).Warn("dashboard form refused: bad csrf token")
	h.fail(c, http.StatusForbidden, "Form refused",
		"This form did not come from this dashboard or is out of date, so nothing was changed. Reload the page and try again.", "/")
	return false
}

// crossSite reports whether the browser marked the request as sent by
// another site (Fetch Metadata); older browsers send no such header.
func crossSite(c *gin.Context) bool {
	return c.GetHeader("Sec-Fetch-Site") == "cross-site"
}

type loginPage struct {
	Next  string
	Error string
}

func (h *handler) loginForm(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if _, ok := h.currentSession(c); ok {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	h.render(c, http.StatusOK, "login", view{Title: "Log in", Data: loginPage{Next: next}})
}

func (h *handler) login(c *gin.Context) {
	next := safeNext(c.PostForm("next"))
	if crossSite(c) {
		h.fail(c, http.StatusForbidden, "Form refused", "This login form did not come from this dashboard.", "/login")
		return
	}
	if !h.sessions.tokenMatches(c.PostForm("token")) {
		h.logger(c).Warn("dashboard login refused")
		h.render(c, http.StatusUnauthorized, "login", view{Title: "Log in", Data: loginPage{Next: next, Error: "That is not the API token."}})
		return
	}
	h.setCookie(c, h.sessions.issue(h.now()), int(sessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session in this browser. With a valid session it needs
// the CSRF token, so that another site cannot log the user out; without
// one there is nothing to protect and the cookie is cleared.
func (h *handler) logout(c *gin.Context) {
	s, ok := h.currentSession(c)
	if ok {
		c.Set(sessionKey, s)
		if !h.checkCSRF(c) {
			return
		}
	}
	h.setCookie(c, "", -1)
	c.Redirect(http.StatusSeeOther, "/login")
}

// setCookie writes the session cookie. Its lifetime is Max-Age only: the
// signed expiry inside is what the server trusts, and a browser clock that
// is off must not drop the cookie early.
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
