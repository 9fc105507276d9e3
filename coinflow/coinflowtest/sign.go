package coinflowtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// Sign returns the Coinflow-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(key, t + "." + body)>",
// key being the Webhook Validation Key's UTF-8 bytes and body the raw bytes
// sent.
func Sign(key string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}
