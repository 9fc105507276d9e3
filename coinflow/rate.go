package coinflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// This file is the one place of the client that turns a foreign-currency
// amount into the USD it costs the Coinflow wallet.
//
// [ASSUMED] Coinflow publishes what usdToForeignExchangeRate means: USD per
// 1 unit of the foreign currency, 0.90 meaning 0.90 USD per GBP (README
// §3). It publishes neither how the USD debit of a foreign payout is
// rounded to cents nor whether a quote's totalMerchantDebit already
// includes the conversion. payoutd and its emulator use the rule of
// USDDebit: the foreign cents times the rate, rounded half away from zero
// to a whole USD cent, computed exactly (math/big, never float64).

// maxRateExponent bounds the exponent of a rate written as 9e-1: a rate
// of 1e1000000000 would otherwise cost a billion-digit number to read.
const maxRateExponent = 30

// maxRateLength bounds the digits of a rate: far more than any rate has.
const maxRateLength = 64

var errNoRate = errors.New("no usdToForeignExchangeRate")

// USDDebit returns the USD cents that amount costs the wallet under
// usdToForeignExchangeRate (USD per 1 unit of amount's currency): cents ×
// rate, rounded half away from zero. A USD amount is its own debit: its
// cents are returned unchanged, as with a rate of 1, whatever the rate
// says. For another currency a missing, zero, negative or unreadable rate
// is an error, as is a debit beyond int64 or an amount without currency.
// See the [ASSUMED] note above: the rounding is payoutd's rule, not one
// Coinflow states.
func USDDebit(amount CurrencyCents, usdToForeignExchangeRate json.Number) (int64, error) {
	switch amount.Currency {
	case "USD":
		return amount.Cents, nil
	case "":
		return 0, errors.New("usd debit: the amount has no currency")
	}
	rate, err := parseRate(usdToForeignExchangeRate.String())
	if err != nil {
		return 0, fmt.Errorf("usd debit of %s: %w", amount.Currency, err)
	}
	debit := roundHalfAway(new(big.Rat).Mul(new(big.Rat).SetInt64(amount.Cents), rate))
	if !debit.IsInt64() {
		return 0, fmt.Errorf("usd debit of %d %s cents at %s: beyond int64", amount.Cents, amount.Currency, usdToForeignExchangeRate)
	}
	return debit.Int64(), nil
}

// ExchangeRate returns usdToForeignExchangeRate as a plain decimal with
// no exponent and no trailing zeros ("0.90" and "9e-1" are "0.9", "1.0" is
// "1"), and true; false when the rate is missing, not a number, zero or
// negative.
func (w *Withdraw) ExchangeRate() (string, bool) {
	r, err := parseRate(w.UsdToForeignExchangeRate.String())
	if err != nil {
		return "", false
	}
	return decimalString(r), true
}

// parseRate reads a positive JSON number exactly.
func parseRate(s string) (*big.Rat, error) {
	if s == "" {
		return nil, errNoRate
	}
	if len(s) > maxRateLength {
		return nil, fmt.Errorf("usdToForeignExchangeRate over %d characters", maxRateLength)
	}
	if !isJSONNumber(s) {
		return nil, fmt.Errorf("usdToForeignExchangeRate %.40q is not a number", s)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || exp > maxRateExponent || exp < -maxRateExponent {
			return nil, fmt.Errorf("usdToForeignExchangeRate %.40q: exponent out of range", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("usdToForeignExchangeRate %.40q is not a number", s)
	}
	if r.Sign() <= 0 {
		return nil, fmt.Errorf("usdToForeignExchangeRate %s is not positive", s)
	}
	return r, nil
}

// isJSONNumber reports whether s is one JSON number and nothing else
// (big.Rat would also read "1/3", "0x10" or " 1").
func isJSONNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) || strings.TrimSpace(s) != s {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// roundHalfAway rounds r to the nearest integer, halves away from zero.
func roundHalfAway(r *big.Rat) *big.Int {
	num, den := new(big.Int).Abs(r.Num()), r.Denom()
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Lsh(m, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// decimalString writes r, a terminating decimal, without exponent or
// trailing zeros.
func decimalString(r *big.Rat) string {
	// r came from at most maxRateLength characters with an exponent
	// within ±maxRateExponent, so its places are bounded.
	places, scaled, ten := 0, new(big.Rat).Set(r), big.NewRat(10, 1)
	for !scaled.IsInt() && places < maxRateLength+maxRateExponent {
		scaled.Mul(scaled, ten)
		places++
	}
	s := r.FloatString(places)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
