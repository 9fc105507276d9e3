package webhook_test

import (
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/webhook"
)

const (
	sigKey  = "test-validation-key-3c1f9a7e5b2d4c6e"
	sigTime = "1748893202"
	hexA    = "2e61b98b3be6069dd8071759e7346518a6f449839224399acfe0da4b00e6a240"
	hexB    = "808c0509b338c4532fbb0a1407c78e37895e199153cd361c439f438878d4c6d4"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestParseSignatureHeader(t *testing.T) {
	t.Parallel()
	// A header of exactly n bytes: valid parts padded by an unknown key.
	sized := func(n int) string {
		h := "t=" + sigTime + ",v1=" + hexA + ",pad="
		return h + strings.Repeat("x", n-len(h))
	}
	tests := []struct {
		name   string
		header string
		want   webhook.SignatureHeader // zero: an error is expected
		v1     []string
	}{
		{name: "t then v1", header: "t=" + sigTime + ",v1=" + hexA, v1: []string{hexA}},
		{name: "v1 then t", header: "v1=" + hexA + ",t=" + sigTime, v1: []string{hexA}},
		{name: "two v1 for key rotation", header: "t=" + sigTime + ",v1=" + hexA + ",v1=" + hexB, v1: []string{hexA, hexB}},
		{name: "unknown keys ignored", header: "v0=zz,t=" + sigTime + ",v2=" + hexB + ",scheme=,v1=" + hexA + ",=x", v1: []string{hexA}},
		{name: "whitespace around parts", header: " t=" + sigTime + " ,\tv1=" + hexA + "\t", v1: []string{hexA}},
		{name: "upper-case hex", header: "t=" + sigTime + ",v1=" + strings.ToUpper(hexA), v1: []string{hexA}},
		{name: "twelve-digit t", header: "t=999999999999,v1=" + hexA, v1: []string{hexA}},
		{name: "t zero", header: "t=0,v1=" + hexA, v1: []string{hexA}},
		{name: "exactly 1024 bytes", header: sized(1024), v1: []string{hexA}},

		{name: "empty", header: ""},
		{name: "only t", header: "t=" + sigTime},
		{name: "only v1", header: "v1=" + hexA},
		{name: "t empty", header: "t=,v1=" + hexA},
		{name: "t with letters", header: "t=17488932o2,v1=" + hexA},
		{name: "t with plus sign", header: "t=+" + sigTime + ",v1=" + hexA},
		{name: "t negative", header: "t=-" + sigTime + ",v1=" + hexA},
		{name: "t decimal", header: "t=" + sigTime + ".5,v1=" + hexA},
		{name: "t in milliseconds", header: "t=" + sigTime + "000,v1=" + hexA},
		{name: "t with inner space", header: "t=17488 93202,v1=" + hexA},
		{name: "t twice", header: "t=" + sigTime + ",t=" + sigTime + ",v1=" + hexA},
		{name: "t twice with different values", header: "t=1,t=2,v1=" + hexA},
		{name: "v1 empty", header: "t=" + sigTime + ",v1="},
		{name: "v1 short", header: "t=" + sigTime + ",v1=" + hexA[:62]},
		{name: "v1 long", header: "t=" + sigTime + ",v1=" + hexA + "00"},
		{name: "v1 odd length", header: "t=" + sigTime + ",v1=" + hexA[:63]},
		{name: "v1 not hex", header: "t=" + sigTime + ",v1=" + strings.Repeat("g", 64)},
		{name: "one good v1 and one bad", header: "t=" + sigTime + ",v1=" + hexA + ",v1=" + hexB[:10]},
		{name: "trailing comma", header: "t=" + sigTime + ",v1=" + hexA + ","},
		{name: "part without equals", header: "t=" + sigTime + ",v1=" + hexA + ",oops"},
		{name: "semicolon separated", header: "t=" + sigTime + ";v1=" + hexA},
		{name: "spaces around equals", header: "t = " + sigTime + ",v1 = " + hexA},
		{name: "keys are case-sensitive", header: "T=" + sigTime + ",V1=" + hexA},
		{name: "1025 bytes", header: sized(1025)},
		{name: "over 1024 bytes of valid v1s", header: "t=" + sigTime + strings.Repeat(",v1="+hexA, 16)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := webhook.ParseSignatureHeader(tc.header)
			if tc.v1 == nil {
				require.ErrorIs(t, err, webhook.ErrMalformedSignature)
				require.Equal(t, webhook.SignatureHeader{}, got)
				return
			}
			require.NoError(t, err)
			ts := tc.header[strings.Index(tc.header, "t=")+2:]
			ts = strings.TrimSpace(strings.SplitN(ts, ",", 2)[0])
			n, err := strconv.ParseInt(ts, 10, 64)
			require.NoError(t, err)
			require.Equal(t, ts, got.Timestamp)
			require.Equal(t, n, got.Unix)
			require.Len(t, got.V1, len(tc.v1))
			for i, h := range tc.v1 {
				require.Equal(t, mustHex(t, h), got.V1[i])
			}
		})
	}
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	key := []byte(sigKey)
	body := []byte(`{"eventType":"KYC Success","category":"KYC","created":"2025-05-01T12:00:02.845Z","data":{"wallet":"acme-payoutsʬu-1001","blockchain":"user","email":"alice@example.com"}}`)
	at := time.Unix(1748893202, 0)
	good := macHex(sigKey, sigTime, body)
	bad := macHex("old-validation-key", sigTime, body)
	tests := []struct {
		name   string
		key    []byte
		header string
		body   []byte
		now    time.Time
		strict bool // zero tolerance instead of 5m
		err    error
	}{
		{name: "valid", header: "t=" + sigTime + ",v1=" + good, now: at},
		{name: "valid at the past edge", header: "t=" + sigTime + ",v1=" + good, now: at.Add(5 * time.Minute)},
		{name: "valid at the future edge", header: "t=" + sigTime + ",v1=" + good, now: at.Add(-5 * time.Minute)},
		{name: "stale by a nanosecond", header: "t=" + sigTime + ",v1=" + good, now: at.Add(5*time.Minute + 1), err: webhook.ErrStaleSignature},
		{name: "future by a nanosecond", header: "t=" + sigTime + ",v1=" + good, now: at.Add(-5*time.Minute - 1), err: webhook.ErrStaleSignature},
		{name: "zero tolerance same second", header: "t=" + sigTime + ",v1=" + good, now: at, strict: true},
		{name: "stale checked before the MAC", header: "t=" + sigTime + ",v1=" + bad, now: at.Add(time.Hour), err: webhook.ErrStaleSignature},
		{name: "t far in the future", header: "t=999999999999,v1=" + macHex(sigKey, "999999999999", body), now: at, err: webhook.ErrStaleSignature},
		{name: "t zero", header: "t=0,v1=" + macHex(sigKey, "0", body), now: at, err: webhook.ErrStaleSignature},
		{name: "wrong key", header: "t=" + sigTime + ",v1=" + bad, now: at, err: webhook.ErrBadSignature},
		{name: "body re-serialized", header: "t=" + sigTime + ",v1=" + good, body: append([]byte(" "), body...), now: at, err: webhook.ErrBadSignature},
		{name: "body truncated", header: "t=" + sigTime + ",v1=" + good, body: body[:len(body)-1], now: at, err: webhook.ErrBadSignature},
		{name: "MAC over another t", header: "t=" + sigTime + ",v1=" + macHex(sigKey, "1748893201", body), now: at, err: webhook.ErrBadSignature},
		{name: "leading zero in t is signed as sent", header: "t=0" + sigTime + ",v1=" + macHex(sigKey, "0"+sigTime, body), now: at},
		{name: "leading zero in t changes the MAC", header: "t=0" + sigTime + ",v1=" + good, now: at, err: webhook.ErrBadSignature},
		{name: "rotation: second v1 matches", header: "t=" + sigTime + ",v1=" + bad + ",v1=" + good, now: at},
		{name: "rotation: first v1 matches", header: "t=" + sigTime + ",v1=" + good + ",v1=" + bad, now: at},
		{name: "rotation: neither matches", header: "t=" + sigTime + ",v1=" + bad + ",v1=" + bad, now: at, err: webhook.ErrBadSignature},
		{name: "upper-case hex", header: "t=" + sigTime + ",v1=" + strings.ToUpper(good), now: at},
		{name: "other key", key: []byte("old-validation-key"), header: "t=" + sigTime + ",v1=" + bad, now: at},
		{name: "malformed", header: "t=" + sigTime, now: at, err: webhook.ErrMalformedSignature},
		{name: "empty body", header: "t=" + sigTime + ",v1=" + macHex(sigKey, sigTime, nil), body: []byte{}, now: at},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, b, tol := key, body, 5*time.Minute
			if tc.key != nil {
				key = tc.key
			}
			if tc.body != nil {
				b = tc.body
			}
			if tc.strict {
				tol = 0
			}
			err := webhook.VerifySignature(key, tc.header, b, tc.now, tol)
			if tc.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.err)
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	t.Parallel()
	format := regexp.MustCompile(`^t=[0-9]+,v1=[0-9a-f]{64}$`)
	tests := []struct {
		name string
		key  string
		at   time.Time
		body []byte
	}{
		{name: "fixture body", key: sigKey, at: time.Unix(1748893202, 0), body: []byte(`{"eventType":"Withdraw Success"}`)},
		{name: "non-ASCII body", key: sigKey, at: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), body: []byte(`{"wallet":"acme-payoutsʬu-1002"}`)},
		{name: "sub-second time is truncated", key: sigKey, at: time.Unix(1748893202, 999_999_999), body: []byte("{}")},
		{name: "empty body", key: sigKey, at: time.Unix(1, 0), body: nil},
		{name: "binary body", key: "k", at: time.Unix(1748893202, 0), body: []byte{0xff, 0x00, '.', '\n'}},
		{name: "time zone does not matter", key: sigKey, at: time.Unix(1748893202, 0).In(time.FixedZone("X", -7*3600)), body: []byte("x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := webhook.Sign([]byte(tc.key), tc.at, tc.body)
			require.Regexp(t, format, h)
			ts := strconv.FormatInt(tc.at.Unix(), 10)
			require.Equal(t, "t="+ts+",v1="+macHex(tc.key, ts, tc.body), h)

			sh, err := webhook.ParseSignatureHeader(h)
			require.NoError(t, err)
			require.Equal(t, ts, sh.Timestamp)
			require.Equal(t, tc.at.Unix(), sh.Unix)
			require.Len(t, sh.V1, 1)

			require.NoError(t, webhook.VerifySignature([]byte(tc.key), h, tc.body, tc.at, time.Second))
			require.ErrorIs(t, webhook.VerifySignature([]byte(tc.key+"x"), h, tc.body, tc.at, time.Second), webhook.ErrBadSignature)
			require.ErrorIs(t, webhook.VerifySignature([]byte(tc.key), h, append([]byte{}, append(tc.body, '!')...), tc.at, time.Second), webhook.ErrBadSignature)
		})
	}
}
