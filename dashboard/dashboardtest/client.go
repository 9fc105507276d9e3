package dashboardtest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// CookieName is the dashboard's session cookie.
const CookieName = "payoutd_session"

// Response is one answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Client talks to a dashboard like a browser that follows no redirects, so
// that tests see each answer. Session is the session cookie's value to send
// ("" for none).
type Client struct {
	BaseURL string
	Session string
	http    *http.Client
}

// NewClient returns a client with no session.
func NewClient(baseURL string) *Client {
	return &Client{BaseURL: baseURL, http: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Login posts token to /login and keeps the session cookie it sets; it
// fails the test unless the login succeeds.
func Login(t testing.TB, baseURL, token string) *Client {
	t.Helper()
	c := NewClient(baseURL)
	resp := c.PostForm(t, "/login", url.Values{"token": {token}})
	if resp.Status != http.StatusSeeOther {
		t.Fatalf("login: status %d, want 303: %s", resp.Status, resp.Body)
	}
	ck := SessionCookie(t, resp)
	if ck == nil || ck.Value == "" {
		t.Fatalf("login: no session cookie in %q", resp.Header.Values("Set-Cookie"))
	}
	c.Session = ck.Value
	return c
}

// SessionCookie returns the session cookie resp sets, or nil.
func SessionCookie(t testing.TB, resp Response) *http.Cookie {
	t.Helper()
	for _, line := range resp.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("parse Set-Cookie %q: %v", line, err)
		}
		if ck.Name == CookieName {
			return ck
		}
	}
	return nil
}

// Get requests path.
func (c *Client) Get(t testing.TB, path string) Response {
	t.Helper()
	return c.Do(t, http.MethodGet, path, nil, nil)
}

// PostForm posts form to path.
func (c *Client) PostForm(t testing.TB, path string, form url.Values) Response {
	t.Helper()
	return c.Do(t, http.MethodPost, path, form, nil)
}

// Do sends one request with the session cookie, if any, and the extra
// headers.
func (c *Client) Do(t testing.TB, method, path string, form url.Values, header http.Header) Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.Session != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: c.Session})
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// CSRF returns the CSRF token of the first form on a page, failing the test
// when there is none.
func CSRF(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field on the page")
	}
	return m[1]
}
