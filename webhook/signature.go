package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Signature errors. All of them make a delivery unauthenticated.
var (
	ErrMalformedSignature = errors.New("malformed Coinflow-Signature header")
	ErrStaleSignature     = errors.New("signature timestamp outside tolerance")
	ErrBadSignature       = errors.New("signature does not verify")
)

// SignatureHeader is a parsed Coinflow-Signature header: t=<unix>,v1=<hex>.
type SignatureHeader struct {
	// Timestamp is t exactly as sent: the signed message uses its text.
	Timestamp string
	Unix      int64
	// V1 holds every v1 value (more than one lets a sender sign with an old
	// and a new key while a key is rotated).
	V1 [][]byte
}

const maxSignatureHeader = 1024

// ParseSignatureHeader parses "t=<unix seconds>,v1=<hex>[,v1=<hex>...]".
// Unknown keys are ignored, so that a future scheme (v2=) can be added by the
// sender without breaking verification; t must appear once, with decimal
// digits only, and every v1 must be 64 hex characters.
func ParseSignatureHeader(h string) (SignatureHeader, error) {
	var sh SignatureHeader
	if len(h) > maxSignatureHeader {
		return sh, ErrMalformedSignature
	}
	for part := range strings.SplitSeq(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return SignatureHeader{}, ErrMalformedSignature
		}
		switch k {
		case "t":
			if sh.Timestamp != "" || !isDigits(v) || len(v) > 12 {
				return SignatureHeader{}, ErrMalformedSignature
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return SignatureHeader{}, ErrMalformedSignature
			}
			sh.Timestamp, sh.Unix = v, n
		case "v1":
			if len(v) != 2*sha256.Size {
				return SignatureHeader{}, ErrMalformedSignature
			}
			mac, err := hex.DecodeString(v)
			if err != nil {
				return SignatureHeader{}, ErrMalformedSignature
			}
			sh.V1 = append(sh.V1, mac)
		}
	}
	if sh.Timestamp == "" || len(sh.V1) == 0 {
		return SignatureHeader{}, ErrMalformedSignature
	}
	return sh, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// VerifySignature checks a Coinflow-Signature header against the raw body:
// HMAC-SHA256 keyed with key over t + "." + body, with |now - t| within
// tolerance. The comparison is constant-time.
func VerifySignature(key []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	_, err := verifySignatureKeys([][]byte{key}, header, body, now, tolerance)
	return err
}

// verifySignatureKeys is VerifySignature under several keys (the current
// one first, then the previous one during a rotation): it returns the index
// of the first key a v1 verifies under. Every key is tried against every v1,
// each comparison constant-time, so the time taken does not say which key
// (if any) matched.
func verifySignatureKeys(keys [][]byte, header string, body []byte, now time.Time, tolerance time.Duration) (int, error) {
	sh, err := ParseSignatureHeader(header)
	if err != nil {
		return -1, err
	}
	skew := now.Sub(time.Unix(sh.Unix, 0))
	if skew > tolerance || skew < -tolerance {
		return -1, ErrStaleSignature
	}
	found := -1
	for i := len(keys) - 1; i >= 0; i-- {
		want := computeMAC(keys[i], sh.Timestamp, body)
		for _, got := range sh.V1 {
			if hmac.Equal(got, want) {
				found = i
			}
		}
	}
	if found < 0 {
		return -1, ErrBadSignature
	}
	return found, nil
}

func computeMAC(key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the Coinflow-Signature header value for body signed at t, as
// Coinflow computes it. The emulator and the load generator sign with it.
func Sign(key []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(computeMAC(key, ts, body))
}

// authorizationMatches compares the Authorization header with the key in
// constant time. Both are hashed first so that the comparison does not leak
// the key's length either.
func authorizationMatches(key []byte, header string) bool {
	a := sha256.Sum256(key)
	b := sha256.Sum256([]byte(header))
	return hmac.Equal(a[:], b[:]) && header != ""
}

// authorizationMatchesKeys is authorizationMatches under several keys: the
// index of the first key the header equals, or -1. Every key is compared.
func authorizationMatchesKeys(keys [][]byte, header string) int {
	found := -1
	for i := len(keys) - 1; i >= 0; i-- {
		if authorizationMatches(keys[i], header) {
			found = i
		}
	}
	return found
}
