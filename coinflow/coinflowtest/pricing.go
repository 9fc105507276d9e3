package coinflowtest

import (
	"fmt"
	"math"
	"math/big"
	"strings"
)

// defaultExchangeRates are the usdToForeignExchangeRate of the foreign
// currencies the emulator pays out in (USD per 1 unit); USD is always 1.
var defaultExchangeRates = map[string]string{
	"EUR": "1.08",
	"GBP": "1.27",
	"BRL": "0.18",
}

// exchangeRate is a usdToForeignExchangeRate: USD per 1 unit of a
// currency, held exactly.
type exchangeRate struct {
	rat  *big.Rat
	text string // the shortest decimal spelling, e.g. "1.08": the JSON number withdraws show
}

// usdRate is USD's own rate: 1.
var usdRate = exchangeRate{rat: big.NewRat(1, 1), text: "1"}

// parseRate reads a positive decimal ("1.08"); fractions and exponents
// are refused so that the rate has an exact decimal spelling.
func parseRate(s string) (exchangeRate, error) {
	intPart, frac, _ := strings.Cut(s, ".")
	if !isDigits(intPart) || (strings.Contains(s, ".") && !isDigits(frac)) {
		return exchangeRate{}, fmt.Errorf("%q is not a decimal number", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return exchangeRate{}, fmt.Errorf("%q is not a positive number", s)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	text := intPart
	if frac = strings.TrimRight(frac, "0"); frac != "" {
		text += "." + frac
	}
	return exchangeRate{rat: r, text: text}, nil
}

// newRates builds the rate table from the defaults and Options.ExchangeRates;
// a bad rate is a programming error of the test that set it (panic).
func newRates(opts map[string]string) map[string]exchangeRate {
	rates := map[string]exchangeRate{"USD": usdRate}
	for _, src := range []map[string]string{defaultExchangeRates, opts} {
		for cur, s := range src {
			if cur == "USD" {
				continue
			}
			r, err := parseRate(s)
			if err != nil {
				panic(fmt.Sprintf("coinflowtest: Options.ExchangeRates[%s]: %v", cur, err))
			}
			rates[cur] = r
		}
	}
	return rates
}

// roundHalfAway rounds r to an integer, halves away from zero, and
// reports whether that fits an int64.
func roundHalfAway(r *big.Rat) (int64, bool) {
	num := new(big.Int).Abs(r.Num())
	q, m := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if m.Lsh(m, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q.Int64(), q.IsInt64()
}

// price is what a payout costs by the emulator's one pricing rule
// (priceLocked): quote, payout and CreateWithdraw all use it, so what a
// quote says is what the payout debits and what a failure credits back.
type price struct {
	currency   string // the payout currency: the destination's
	rate       exchangeRate
	cents      int64 // the amount in currency: userPayout, what the user receives
	usdCents   int64 // the amount in USD cents
	feeCents   int64 // the merchant fee, USD cents: merchantFees
	totalCents int64 // usdCents + feeCents, USD cents: totalMerchantDebit, what leaves the wallet
}

// priceLocked prices a payout of cents in currency with the merchant fee
// feeCents (the effective speed's, in USD cents). [ASSUMED] Coinflow
// publishes no rule for foreign-currency payouts from a USD wallet; the
// emulator's is:
//
//	usdCents(amount)   = amount.cents × usdToForeignExchangeRate, rounded
//	                     half away from zero to whole cents (math/big)
//	totalMerchantDebit = usdCents(amount) + fee          (USD)
//	userPayout         = amount                          (payout currency)
//	merchantFees       = fee                             (USD)
//
// and a quote's per-speed entries carry the fee in USD and limit and
// finalSettlement in the payout currency, finalSettlement being amount −
// fee ÷ rate (rounded the same way; amount − fee for USD). It returns
// the message of a 400 when currency has no rate or the sum overflows.
func (e *Emulator) priceLocked(cents int64, currency string, feeCents int64) (price, string) {
	rate, ok := e.rates[currency]
	if !ok {
		return price{}, fmt.Sprintf("payouts in %s are not supported", currency)
	}
	usd, ok := roundHalfAway(new(big.Rat).Mul(new(big.Rat).SetInt64(cents), rate.rat))
	if !ok || usd > math.MaxInt64-feeCents {
		return price{}, "amount.cents is too large"
	}
	return price{
		currency: currency, rate: rate, cents: cents,
		usdCents: usd, feeCents: feeCents, totalCents: usd + feeCents,
	}, ""
}

// finalSettlement is a quote entry's finalSettlement: cents less feeCents
// (USD) converted at rate, in the payout currency. See priceLocked.
func finalSettlement(cents, feeCents int64, rate exchangeRate) int64 {
	fee := new(big.Rat).Quo(new(big.Rat).SetInt64(feeCents), rate.rat)
	v, ok := roundHalfAway(fee.Sub(new(big.Rat).SetInt64(cents), fee))
	if !ok {
		return math.MinInt64
	}
	return v
}
