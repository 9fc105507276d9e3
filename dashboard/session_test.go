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

	"github.com/payoutd/payoutd/internal/principal"
)

func TestDashboardSessionValues(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	alice := principal.Token{Name: "alice", Secret: []byte("alice-token-0123456789")}
	bot := principal.Token{Name: "ops.bot@x", Secret: []byte("bot-token-0123456789")}
	s := newSessions([]principal.Token{alice, bot, {Name: "unset"}})
	v := s.issue("alice", now)
	valid := func(s *sessions, v string, at time.Time) bool {
		t.Helper()
		name, ok := s.valid(v, at)
		if ok {
			require.Equal(t, "alice", name)
		}
		return ok
	}
	require.True(t, valid(s, v, now))
	require.True(t, valid(s, v, now.Add(sessionTTL-time.Second)))
	require.False(t, valid(s, v, now.Add(sessionTTL)), "expired")
	require.NotEqual(t, v, s.issue("alice", now), "each login has its own nonce")
	name, ok := s.valid(s.issue("ops.bot@x", now), now)
	require.True(t, ok)
	require.Equal(t, "ops.bot@x", name, "a name with dots survives the format")

	require.False(t, valid(newSessions([]principal.Token{{Name: "alice", Secret: []byte("changed-token-0123456")}}), v, now), "the token changed")
	require.False(t, valid(newSessions([]principal.Token{bot}), v, now), "the token was removed")
	require.False(t, valid(newSessions(nil), v, now), "no token")
	for got, want := range map[string]string{alice.Name: "", "alice-token-0123456789": "alice", "bot-token-0123456789": "ops.bot@x", "": "", "alice-token-0123456789 ": ""} {
		name, ok := s.login(got)
		require.Equal(t, want != "", ok, "login %q", got)
		require.Equal(t, want, name, "login %q", got)
	}
	_, ok = newSessions(nil).login("")
	require.False(t, ok, "no token matches nothing")
	_, ok = s.login("")
	require.False(t, ok, "an unset token matches nothing")

	parts := strings.Split(v, ".")
	require.Len(t, parts, 5)
	// The same MAC under another name's field is no session: the name is
	// signed, and bob has no keys.
	bobField := base64.RawURLEncoding.EncodeToString([]byte("ops.bot@x"))
	for name, bad := range map[string]string{
		"empty":        "",
		"no mac":       strings.Join(parts[:4], "."),
		"other expiry": strings.Join([]string{parts[0], parts[1], strconv.FormatInt(now.Add(time.Hour).Unix(), 10), parts[3], parts[4]}, "."),
		"other nonce":  strings.Join([]string{parts[0], parts[1], parts[2], "AAAAAAAAAAAAAAAA", parts[4]}, "."),
		"other name":   strings.Join([]string{parts[0], bobField, parts[2], parts[3], parts[4]}, "."),
		"unknown name": strings.Join([]string{parts[0], "Ym9i", parts[2], parts[3], parts[4]}, "."),
		"v1 format":    strings.Join([]string{"v1", parts[2], parts[3], parts[4]}, "."),
		"bad base64":   strings.Join([]string{parts[0], parts[1], parts[2], parts[3], "!!!"}, "."),
		"too long":     v + strings.Repeat("A", 600),
	} {
		require.False(t, valid(s, bad, now), name)
	}

	// Even a correctly signed value is refused past one TTL ahead: no
	// session outlives the TTL in force, whatever it was issued with.
	far := "v2." + parts[1] + "." + strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) + ".bm9uY2U"
	m := hmac.New(sha256.New, s.keys["alice"].session)
	m.Write([]byte(far))
	require.False(t, valid(s, far+"."+base64.RawURLEncoding.EncodeToString(m.Sum(nil)), now))

	// The CSRF token is bound to the session value and never equals its MAC.
	csrf := s.csrf(v)
	require.True(t, s.csrfMatches(v, csrf))
	require.False(t, s.csrfMatches(v, ""))
	require.False(t, s.csrfMatches("", s.csrf("")))
	require.False(t, s.csrfMatches(s.issue("alice", now), csrf), "another session")
	require.NotEqual(t, parts[4], csrf)
	require.Empty(t, newSessions([]principal.Token{bot}).csrf(v), "no CSRF token for a removed token's session")
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
