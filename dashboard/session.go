package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// sessionTTL is how long a login lasts.
const sessionTTL = 12 * time.Hour

// sessionVersion starts every session value, so that a change of format
// invalidates the old cookies instead of misreading them.
const sessionVersion = "v1"

// sessions signs and checks session values and derives CSRF tokens. Its
// keys come from the API token alone: the daemon keeps no session state, and
// a new token invalidates every session and every form.
type sessions struct {
	token      []byte
	tokenSum   [sha256.Size]byte
	sessionKey []byte
	csrfKey    []byte
}

func newSessions(token []byte) *sessions {
	return &sessions{
		token:      token,
		tokenSum:   sha256.Sum256(token),
		sessionKey: derive(token, "payoutd/dashboard/session/v1"),
		csrfKey:    derive(token, "payoutd/dashboard/csrf/v1"),
	}
}

// derive gives a key for one purpose, so that a session MAC can never be
// replayed as a CSRF token or the other way round.
func derive(token []byte, purpose string) []byte {
	m := hmac.New(sha256.New, token)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

func (s *sessions) configured() bool { return len(s.token) > 0 }

// tokenMatches compares a submitted token with the API token in constant
// time (hashing first, so that not even the length leaks).
func (s *sessions) tokenMatches(got string) bool {
	sum := sha256.Sum256([]byte(got))
	return s.configured() && hmac.Equal(sum[:], s.tokenSum[:])
}

// issue returns a new session value that expires at now+sessionTTL:
// "v1.<expiry unix>.<nonce>.<mac>". The nonce gives each login its own CSRF
// token.
func (s *sessions) issue(now time.Time) string {
	var nonce [12]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails (Go 1.24+)
	payload := sessionVersion + "." + strconv.FormatInt(now.Add(sessionTTL).Unix(), 10) + "." +
		base64.RawURLEncoding.EncodeToString(nonce[:])
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.mac(s.sessionKey, payload))
}

// valid reports whether value is a session this token signed that has not
// expired at now.
func (s *sessions) valid(value string, now time.Time) bool {
	if !s.configured() || len(value) > 256 {
		return false
	}
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return false
	}
	// Compared as text, so that no other spelling of the same bytes (base64
	// padding bits) passes.
	payload, sig := value[:i], value[i+1:]
	want := base64.RawURLEncoding.EncodeToString(s.mac(s.sessionKey, payload))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || parts[0] != sessionVersion {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return false
	}
	expiry := time.Unix(exp, 0)
	// An expiry further out than one TTL was not issued under today's TTL.
	return now.Before(expiry) && !expiry.After(now.Add(sessionTTL+time.Minute))
}

// csrf returns the CSRF token for forms shown to the holder of session.
func (s *sessions) csrf(session string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(s.csrfKey, session))
}

// csrfMatches checks a submitted CSRF token in constant time.
func (s *sessions) csrfMatches(session, got string) bool {
	return session != "" && hmac.Equal([]byte(got), []byte(s.csrf(session)))
}

func (s *sessions) mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
