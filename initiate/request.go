package initiate

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/payoutd/payoutd/internal/check"
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

// Validate returns a message per invalid field (nil when valid).
func (r Request) Validate() map[string]string {
	errs := map[string]string{}
	if msg := check.ID(r.UserID); msg != "" {
		errs["user_id"] = msg
	}
	check.Amount(errs, "amount", r.Amount.Cents, r.Amount.Currency)
	if !rail.Valid(r.Speed) {
		errs["speed"] = "must be one of " + strings.Join(rail.Speeds(), ", ")
	}
	if msg := check.ID(r.Account); msg != "" {
		errs["account"] = msg
	}
	if r.IdempotencyKey != "" {
		if msg := check.ID(r.IdempotencyKey); msg != "" {
			errs["idempotency_key"] = msg
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// fingerprint identifies the request's content behind its idempotency key.
func (r Request) fingerprint() string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		r.UserID, strconv.FormatInt(r.Amount.Cents, 10), r.Amount.Currency, r.Speed, r.Account,
	}, "\x00")))
	return hex.EncodeToString(sum[:])
}
