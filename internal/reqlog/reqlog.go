// Package reqlog carries a request's id through its context, so that every
// log line written while serving the request names it: the access log, the
// handlers, and the services they call with the logger they were built with.
//
// The id is taken from the caller's X-Request-Id when it is a sane value
// (Accept), else made here (New); the router's first middleware puts it in
// the request's context (With) and on the response.
package reqlog

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"github.com/sirupsen/logrus"
)

// Header is the request and response header that carries the id.
const Header = "X-Request-Id"

// Field is the log field that carries the id.
const Field = "request_id"

// MaxLen bounds an id taken from a caller, in bytes.
const MaxLen = 128

type ctxKey struct{}

// With returns ctx carrying the request's id. Only the id is kept: a log
// entry is made when a line is written (Entry), not for every request.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// Entry is fallback with the id of the request ctx belongs to, or fallback
// itself outside a request. The fallback's logger and fields (its
// component) are kept: only the id is taken from the request.
func Entry(ctx context.Context, fallback *logrus.Entry) *logrus.Entry {
	id := ID(ctx)
	if id == "" {
		return fallback
	}
	return fallback.WithField(Field, id)
}

// ID is the id of the request ctx belongs to; "" outside a request.
func ID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Accept reports whether a caller's id may be kept: 1 to MaxLen bytes of
// printable ASCII (space to tilde). Anything else (control characters that
// could forge log lines, non-ASCII, an oversized value) is replaced.
func Accept(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// New makes an id: 16 random bytes in hex.
func New() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
