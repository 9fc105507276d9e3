package coinflowtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"
)

// SessionKeyTTL is how long a key from GET /auth/session-key is valid, on
// the emulator clock: 24 hours (README sections 2 and 5.11a).
const SessionKeyTTL = 24 * time.Hour

// issuedKey is a session key the emulator handed out.
type issuedKey struct {
	userID  string
	expires time.Time
}

// sessionKeyJSON is GetSessionKeyResponse.
type sessionKeyJSON struct {
	Key string `json:"key"`
}

// sessionClaimsJSON is a session key's payload. [ASSUMED] Coinflow's key is
// described only as a JWT that authorizes the user for 24 hours; these
// claims are the emulator's.
type sessionClaimsJSON struct {
	Sub        string `json:"sub"` // the userId
	MerchantID string `json:"merchantId"`
	Iat        int64  `json:"iat"` // issued at, unix seconds (emulator clock)
	Exp        int64  `json:"exp"` // iat + 24h
	Jti        string `json:"jti"` // makes every key distinct
}

// jwtHeader is the encoded {"alg":"HS256","typ":"JWT"}.
var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// handleSessionKey is GET /auth/session-key for the user in
// x-coinflow-auth-user-id: 200 {"key"} with a new key valid for
// SessionKeyTTL, 404 {"msg"} for an unknown user. Any withdrawer gets one,
// verified or not.
func (e *Emulator) handleSessionKey(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	userID := e.userID(r)
	if e.byUser[userID] == nil {
		writeMsg(w, http.StatusNotFound, "Withdrawer not found")
		return
	}
	writeJSON(w, http.StatusOK, sessionKeyJSON{Key: e.issueSessionKeyLocked(userID)})
}

// issueSessionKeyLocked mints and records a JWT-shaped key for userID:
// base64url header, claims and HMAC-SHA256 signature (a secret of the
// emulator's, from the seed).
func (e *Emulator) issueSessionKeyLocked(userID string) string {
	exp := e.now.Add(SessionKeyTTL)
	claims := mustJSON(sessionClaimsJSON{
		Sub: userID, MerchantID: e.opts.MerchantID, Iat: e.now.Unix(), Exp: exp.Unix(),
		Jti: e.ids.session.token("", 16),
	})
	signed := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(claims)
	mac := hmac.New(sha256.New, e.sessionSecret)
	mac.Write([]byte(signed))
	key := signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	e.sessionKeys[key] = issuedKey{userID: userID, expires: exp}
	return key
}

// SessionKeyValid reports whether key was issued by GET /auth/session-key
// and has not expired on the emulator clock (it is valid for
// SessionKeyTTL from issue, exclusive), and the user it authorizes.
func (e *Emulator) SessionKeyValid(key string) (userID string, ok bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	k, found := e.sessionKeys[key]
	if !found || !e.now.Before(k.expires) {
		return "", false
	}
	return k.userID, true
}
