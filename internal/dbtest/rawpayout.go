package dbtest

import (
	"math"
	"testing"
	"time"

	"github.com/payoutd/payoutd/models"
)

// RawPayout is a payouts row written with plain SQL, past every check of
// the store: for rows no code path should make, such as amounts whose sum
// does not fit in an int64. Empty fields take the defaults InsertPayouts
// names.
type RawPayout struct {
	ID                string
	UserID            string // default "user-" + ID
	Cents             int64
	Currency          string              // default USD
	Status            models.PayoutStatus // default pending
	Detail            string              // status_detail; "" for NULL
	Speed             string              // requested and effective; "" for NULL
	ReturnStatus      string              // "" for NULL
	Transaction       string              // default "tx-" + ID; "-" for NULL
	UserFeesCents     int64
	MerchantFeesCents int64
	CreatedAt         time.Time  // also status_at and updated_at
	ReturnedAt        *time.Time // NULL when nil
	WalletDebitCents  *int64     // what it cost the USD wallet; NULL (not priced) when nil
	ExchangeRate      string     // "" for NULL
}

// InsertPayouts writes ps with INSERT statements.
func InsertPayouts(t testing.TB, s *models.Store, ps ...RawPayout) {
	t.Helper()
	null := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	for _, p := range ps {
		user := p.UserID
		if user == "" {
			user = "user-" + p.ID
		}
		currency := p.Currency
		if currency == "" {
			currency = "USD"
		}
		status := p.Status
		if status == "" {
			status = models.StatusPending
		}
		tx := null("tx-" + p.ID)
		if p.Transaction == "-" {
			tx = nil
		} else if p.Transaction != "" {
			tx = p.Transaction
		}
		at := p.CreatedAt.UTC()
		var returned any
		if p.ReturnedAt != nil {
			returned = p.ReturnedAt.UTC()
		}
		err := s.DB().WithContext(t.Context()).Exec(`INSERT INTO payouts (id, user_id, amount_cents, amount_currency,
  requested_speed, effective_speed, status, status_detail, status_at, return_status, coinflow_transaction,
  user_fees_cents, user_fees_currency, merchant_fees_cents, merchant_fees_currency, source, created_at, updated_at, returned_at,
  wallet_debit_cents, exchange_rate)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'api', ?, ?, ?, ?, ?)`,
			p.ID, user, p.Cents, currency, null(p.Speed), null(p.Speed), string(status), null(p.Detail), at,
			null(p.ReturnStatus), tx, p.UserFeesCents, currency, p.MerchantFeesCents, currency, at, at, returned,
			p.WalletDebitCents, null(p.ExchangeRate)).Error
		if err != nil {
			t.Fatalf("insert payout %s: %v", p.ID, err)
		}
	}
}

// OverflowingPayouts are two pending USD payouts created at at, alike in
// everything the report groups by, whose amounts, user fees and merchant
// fees each sum to one more than the largest int64: every sum of cents over
// them overflows. (The amount a signed webhook once stored was
// math.MaxInt64.)
func OverflowingPayouts(at time.Time) []RawPayout {
	p := func(id string, cents int64) RawPayout {
		return RawPayout{
			ID: id, Cents: cents, Speed: "same_day", Detail: models.DetailUnclaimed,
			UserFeesCents: cents, MerchantFeesCents: cents, CreatedAt: at,
		}
	}
	return []RawPayout{p("overflow-max", math.MaxInt64), p("overflow-one", 1)}
}
