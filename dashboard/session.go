package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/payoutd/payoutd/internal/principal"
)

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

// sessionVersion starts every session value, so that a change of format
// invalidates the old cookies instead of misreading them. v2 added the
// token's name.
const sessionVersion = "v2"

// sessions signs and checks session values and derives CSRF tokens. A
// session names the token it logged in with and is signed with keys derived
// from that token alone: the daemon keeps no session state, and a token
// that is removed or changed ends its sessions and invalidates their forms.
type sessions struct {
	tokens *principal.Tokens
	keys   map[string]tokenKeys // by token name
}

type tokenKeys struct {
	session, csrf []byte
}

func newSessions(ts []principal.Token) *sessions {
	s := &sessions{tokens: principal.NewTokens(ts), keys: map[string]tokenKeys{}}
	for _, t := range ts {
		if len(t.Secret) > 0 {
			s.keys[t.Name] = tokenKeys{
				session: derive(t.Secret, "payoutd/dashboard/session/v1"),
				csrf:    derive(t.Secret, "payoutd/dashboard/csrf/v1"),
			}
		}
	}
	return s
}

// derive gives a key for one purpose, so that a session MAC can never be
// replayed as a CSRF token or the other way round.
func derive(token []byte, purpose string) []byte {
	m := hmac.New(sha256.New, token)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func (s *sessions) configured() bool { return s.tokens.Configured() }

// login returns the name of the token got is, compared in constant time
// with every configured token.
func (s *sessions) login(got string) (string, bool) {
	t, ok := s.tokens.Match(got)
	return t.Name, ok
}

// issue returns a new session for the token called name that expires at
// now+sessionTTL: "v2.<name, base64url>.<expiry unix>.<nonce>.<mac>". The
// nonce gives each login its own CSRF token.
func (s *sessions) issue(name string, now time.Time) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails (Go 1.24+)
	payload := sessionVersion + "." + base64.RawURLEncoding.EncodeToString([]byte(name)) + "." +
		strconv.FormatInt(now.Add(sessionTTL).Unix(), 10) + "." + base64.RawURLEncoding.EncodeToString(nonce[:])
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac(s.keys[name].session, payload))
}

// valid returns the name of the token that signed value when value is a
// session that has not expired at now and whose token is still configured.
func (s *sessions) valid(value string, now time.Time) (string, bool) {
	if len(value) > 512 {
		return "", false
	}
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return "", false
	}
	payload, sig := value[:i], value[i+1:]
	parts := strings.Split(payload, ".")
	if len(parts) != 4 || parts[0] != sessionVersion {
		return "", false
	}
	name, keys, ok := s.keysOf(parts[1])
	if !ok {
		return "", false
	}
	// Compared as text, so that no other spelling of the same bytes (base64
	// padding bits) passes.
	want := base64.RawURLEncoding.EncodeToString(mac(keys.session, payload))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", false
	}
	expiry := time.Unix(exp, 0)
	// An expiry further out than one TTL was not issued under today's TTL.
	if !now.Before(expiry) || expiry.After(now.Add(sessionTTL+time.Minute)) {
		return "", false
	}
	return name, true
}

// keysOf decodes a session's name field and returns its token's keys.
func (s *sessions) keysOf(field string) (string, tokenKeys, bool) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(field)
	if err != nil {
		return "", tokenKeys{}, false
	}
	k, ok := s.keys[string(b)]
	return string(b), k, ok
}

// csrf returns the CSRF token for forms shown to the holder of session, a
// value valid has accepted; "" for anything else.
func (s *sessions) csrf(session string) string {
	parts := strings.Split(session, ".")
	if len(parts) != 5 {
		return ""
	}
	_, keys, ok := s.keysOf(parts[1])
	if !ok {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(mac(keys.csrf, session))
}

// csrfMatches checks a submitted CSRF token in constant time.
func (s *sessions) csrfMatches(session, got string) bool {
	want := s.csrf(session)
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
