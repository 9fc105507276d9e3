package models

import (
	"errors"
	"fmt"
)

// Money is an exact amount in minor units of one currency. Money is never a
// float: not in storage, not in a comparison, not in a log field.
type Money struct {
	Cents    int64  `json:"cents"`
	Currency string `json:"currency"`
}

// MaxCents is the largest amount payoutd accepts anywhere: a payout asked
// for through the API and every amount or fee Coinflow reports (100 billion
// in major units, far above any payout Coinflow makes). Sums are still
// checked: at the cap, some 900,000 amounts reach the int64 limit.
const MaxCents int64 = 10_000_000_000_000

// ErrCurrencyMismatch is returned when amounts of two currencies are combined.
var ErrCurrencyMismatch = errors.New("currency mismatch")

// ValidCurrency reports whether code is an ISO 4217 code Coinflow accepts.
func ValidCurrency(code string) bool {
	_, ok := currencies[code]
	return ok
}

// Add returns m+o; both must be in the same currency. A zero Money (no
// currency) adopts the other's currency, so sums can start from Money{}.
func (m Money) Add(o Money) (Money, error) {
	switch {
	case m.Currency == "":
		m.Currency = o.Currency
	case o.Currency != "" && o.Currency != m.Currency:
		return Money{}, fmt.Errorf("add %s to %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	sum, err := AddCents(m.Cents, o.Cents)
	if err != nil {
		return Money{}, fmt.Errorf("add %s to %s: sum %w", o, m, err)
	}
	m.Cents = sum
	return m, nil
}

// AddCents returns a+b, or ErrOverflow when it does not fit in an int64.
func AddCents(a, b int64) (int64, error) {
	s := a + b
	if (a^s)&(b^s) < 0 { // a and b share a sign that s lost
		return 0, ErrOverflow
	}
	return s, nil
}

// SubCents returns a-b, or ErrOverflow when it does not fit in an int64.
func SubCents(a, b int64) (int64, error) {
	d := a - b
	if (a^b)&(a^d) < 0 { // a and b differ in sign, and d lost a's
		return 0, ErrOverflow
	}
	return d, nil
}

// String formats m for people, e.g. "1,234.56 USD". Minor units are assumed to
// be hundredths, which holds for every currency Coinflow pays out in.
func (m Money) String() string {
	c := uint64(m.Cents)
	sign := ""
	if m.Cents < 0 {
		sign, c = "-", -c // in uint64, so that the most negative int64 has a magnitude too
	}
	whole, frac := c/100, c%100
	digits := fmt.Sprint(whole)
	var grouped []byte
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			grouped = append(grouped, ',')
		}
		grouped = append(grouped, digits[i])
	}
	return fmt.Sprintf("%s%s.%02d %s", sign, grouped, frac, m.Currency)
}
