package initiate

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// Request is a payout the merchant asks for.
type Request struct {
	UserID         string
	Amount         models.Money
	Speed          string
	Account        string // destination token; never logged
	IdempotencyKey string // generated when empty
}

const maxIDLen = 128

// Validate returns a message per invalid field (nil when valid).
func (r Request) Validate() map[string]string {
	errs := map[string]string{}
	if msg := checkID(r.UserID); msg != "" {
		errs["user_id"] = msg
	}
	switch {
	case r.Amount.Cents <= 0:
		errs["amount.cents"] = "must be a positive whole number of cents"
	case r.Amount.Cents > models.MaxCents:
		errs["amount.cents"] = "is larger than any payout Coinflow accepts"
	}
	if currencies := rail.PayoutCurrencies(); !slices.Contains(currencies, r.Amount.Currency) {
		errs["amount.currency"] = "must be one of " + strings.Join(currencies, ", ")
	}
	if !rail.Valid(r.Speed) {
		errs["speed"] = "must be one of " + strings.Join(rail.Speeds(), ", ")
	}
	if msg := checkID(r.Account); msg != "" {
		errs["account"] = msg
	}
	if r.IdempotencyKey != "" {
		if msg := checkID(r.IdempotencyKey); msg != "" {
			errs["idempotency_key"] = msg
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func checkID(s string) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > maxIDLen:
		return "must be at most " + strconv.Itoa(maxIDLen) + " bytes"
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return "must be printable, without spaces"
		}
	}
	return ""
}

// fingerprint identifies the request's content behind its idempotency key.
func (r Request) fingerprint() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		r.UserID, strconv.FormatInt(r.Amount.Cents, 10), r.Amount.Currency, r.Speed, r.Account,
	}, "\x00")))
	return hex.EncodeToString(sum[:])
}
