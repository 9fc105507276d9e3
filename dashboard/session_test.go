package dashboard

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDashboardSessionValues(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	s := newSessions([]byte("token-a"))
	v := s.issue(now)
	require.True(t, s.valid(v, now))
	require.True(t, s.valid(v, now.Add(sessionTTL-time.Second)))
	require.False(t, s.valid(v, now.Add(sessionTTL)), "expired")
	require.NotEqual(t, v, s.issue(now), "each login has its own nonce")

	require.False(t, newSessions([]byte("token-b")).valid(v, now), "another token")
	require.False(t, newSessions(nil).valid(v, now), "no token")
	require.False(t, newSessions(nil).tokenMatches(""), "no token matches nothing")
	require.True(t, s.tokenMatches("token-a"))
	require.False(t, s.tokenMatches("token-a "))

	parts := strings.Split(v, ".")
	require.Len(t, parts, 4)
	for name, bad := range map[string]string{
		"empty":        "",
		"no mac":       strings.Join(parts[:3], "."),
		"other expiry": strings.Join([]string{parts[0], strconv.FormatInt(now.Add(time.Hour).Unix(), 10), parts[2], parts[3]}, "."),
		"other nonce":  strings.Join([]string{parts[0], parts[1], "AAAAAAAAAAAAAAAA", parts[3]}, "."),
		"bad base64":   strings.Join([]string{parts[0], parts[1], parts[2], "!!!"}, "."),
		"too long":     v + strings.Repeat("A", 300),
	} {
		require.False(t, s.valid(bad, now), name)
	}

	// Even a correctly signed value is refused past one TTL ahead: no
	// session outlives the TTL in force, whatever it was issued with.
	far := "v1." + strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) + ".bm9uY2U"
	m := hmac.New(sha256.New, s.sessionKey)
	m.Write([]byte(far))
	require.False(t, s.valid(far+"."+base64.RawURLEncoding.EncodeToString(m.Sum(nil)), now))

	// The CSRF token is bound to the session value and never equals its MAC.
	csrf := s.csrf(v)
	require.True(t, s.csrfMatches(v, csrf))
	require.False(t, s.csrfMatches(v, ""))
	require.False(t, s.csrfMatches("", s.csrf("")))
	require.False(t, s.csrfMatches(s.issue(now), csrf), "another session")
	require.NotEqual(t, parts[3], csrf)
}

func TestDashboardSafeRedirects(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "/",
		"/":                     "/",
		"/findings?status=open": "/findings?status=open",
		"/payouts/abc":          "/payouts/abc",
		"//evil.example":        "/",
		"/\\evil.example":       "/",
		"https://evil.example/": "/",
		"javascript:alert(1)":   "/",
		"findings":              "/",
		"/login?next=/x":        "/",
		"/x\r\nSet-Cookie: a=b": "/",
	} {
		require.Equal(t, want, safeNext(in), "next %q", in)
	}
	for in, want := range map[string]string{
		"":                               "/findings",
		"/findings":                      "/findings",
		"/findings?status=open&kind=x":   "/findings?status=open&kind=x",
		"/payouts/p-1":                   "/payouts/p-1",
		"/runs/r-1":                      "/runs/r-1",
		"/payouts/../logout":             "/findings",
		"https://evil.example/findings":  "/findings",
		"//evil.example/findings":        "/findings",
		"/":                              "/findings",
		"/findingsx":                     "/findings",
		"http://user@evil.example/runs/": "/findings",
	} {
		require.Equal(t, want, returnPath(in), "return %q", in)
	}
}
