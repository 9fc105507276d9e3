package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// withdrawPending is Coinflow's "Withdraw Pending" webhook laid out like
// testdata/coinflow/fixtures/webhooks/withdraw-pending.json (pretty-printed, ~900
// bytes), with the fields that identify an event left to fill in.
const (
	withdrawPendingHead = `{
  "eventType": "Withdraw Pending",
  "category": "Withdraw",
  "created": "`
	withdrawPendingWallet = `",
  "data": {
    "wallet": "`
	withdrawPendingSignature = `",
    "blockchain": "solana",
    "signature": "`
	withdrawPendingFees = `",
    "userFees": {
      "cents": 0,
      "currency": "USD"
    },
    "userGasFees": {
      "cents": 0,
      "currency": "USD"
    },
    "userCustomFees": {
      "cents": 0,
      "currency": "USD"
    },
    "merchantFees": {
      "cents": 150,
      "currency": "USD"
    },
    "merchantGasFees": {
      "cents": 0,
      "currency": "USD"
    },
    "total": {
      "cents": `
	withdrawPendingUser = `,
      "currency": "USD"
    },
    "currency": "USD",
    "merchantId": "acme-payouts",
    "userId": "`
	withdrawPendingKey = `",
    "idempotencyKey": "`
	withdrawPendingTail = `"
  }
}
`
)

// base58 is the alphabet of Solana signatures and wallets.
const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// eventFactory makes distinct events: every one has its own transaction
// signature, created time and idempotency key, so that none is a duplicate
// of another, within a run or across runs.
type eventFactory struct {
	run     string // random per run, so that two runs never share a signature
	created time.Time
	seq     atomic.Uint64
}

func newEventFactory(now time.Time) *eventFactory {
	var b [8]byte
	_, _ = rand.Read(b[:])
	run := make([]byte, len(b))
	for i, c := range b {
		run[i] = base58[int(c)%len(base58)]
	}
	return &eventFactory{run: string(run), created: now.UTC()}
}

// next returns a new event number.
func (f *eventFactory) next() uint64 { return f.seq.Add(1) }

// withdrawPending is the body of event n.
func (f *eventFactory) withdrawPending(n uint64) []byte {
	// One microsecond per event keeps created unique and close to now.
	created := f.created.Add(time.Duration(n) * time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
	user := "u-" + strconv.FormatUint(n%5000, 10)
	b := make([]byte, 0, 1024)
	b = append(b, withdrawPendingHead...)
	b = append(b, created...)
	b = append(b, withdrawPendingWallet...)
	b = appendBase58ID(b, "W"+f.run, n%5000, 44)
	b = append(b, withdrawPendingSignature...)
	b = appendBase58ID(b, "S"+f.run, n, 88)
	b = append(b, withdrawPendingFees...)
	b = strconv.AppendUint(b, 1000+n%250000, 10)
	b = append(b, withdrawPendingUser...)
	b = append(b, user...)
	b = append(b, withdrawPendingKey...)
	b = append(b, uuid.NewString()...)
	b = append(b, withdrawPendingTail...)
	return b
}

// appendBase58ID appends prefix, n in base 58 and filler up to width
// characters: unique for distinct (prefix, n) below 58^11, and shaped like a
// real one.
func appendBase58ID(b []byte, prefix string, n uint64, width int) []byte {
	start := len(b)
	b = append(b, prefix...)
	// Fixed width ('1' is base 58's zero), so that filler never makes two
	// numbers look alike.
	var digits [11]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = base58[n%58]
		n /= 58
	}
	b = append(b, digits[:]...)
	for j := 0; len(b)-start < width; j++ {
		b = append(b, base58[(j*7+3)%len(base58)])
	}
	return b
}

// dedupKey is a key shaped like payoutd's ("ev:" + SHA-256 hex) for the
// baseline's rows.
func dedupKey(run string, n uint64) string {
	sum := sha256.Sum256(strconv.AppendUint([]byte(run), n, 10))
	return "ev:" + hex.EncodeToString(sum[:])
}
