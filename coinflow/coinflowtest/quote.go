package coinflowtest

import (
	"math/big"
	"net/http"
)

// quoteEntryJSON is WithdrawQuoteFeesAndLimit.
type quoteEntryJSON struct {
	Fee                     currencyCents `json:"fee"`
	Limit                   currencyCents `json:"limit"`
	FinalSettlement         currencyCents `json:"finalSettlement"`
	ExpectedDeliveryDate    string        `json:"expectedDeliveryDate"`
	ExpectedDeliveryDateISO string        `json:"expectedDeliveryDateISO,omitempty"`
}

type gasFeesJSON struct {
	GasFees    currencyCents `json:"gasFees"`
	GasFeesWei string        `json:"gasFeesWei"`
}

// speedQuotesJSON is WithdrawQuote: one entry per speed plus the quote.
type speedQuotesJSON struct {
	ASAP     quoteEntryJSON `json:"asap"`
	SameDay  quoteEntryJSON `json:"same_day"`
	Standard quoteEntryJSON `json:"standard"`
	Card     quoteEntryJSON `json:"card"`
	IBAN     quoteEntryJSON `json:"iban"`
	PIX      quoteEntryJSON `json:"pix"`
	EFT      quoteEntryJSON `json:"eft"`
	Venmo    quoteEntryJSON `json:"venmo"`
	PayPal   quoteEntryJSON `json:"paypal"`
	Wire     quoteEntryJSON `json:"wire"`
	Interac  quoteEntryJSON `json:"interac"`
	Quote    currencyCents  `json:"quote"`
	GasFees  gasFeesJSON    `json:"gasFees"`
	SwapFees currencyCents  `json:"swapFees"`
}

// delegatedQuoteJSON is DelegatedPayoutQuote.
type delegatedQuoteJSON struct {
	speedQuotesJSON
	TotalMerchantDebit currencyCents `json:"totalMerchantDebit"`
	UserPayout         currencyCents `json:"userPayout"`
	MerchantFees       currencyCents `json:"merchantFees"`
}

// quoteLimits are the per-transaction limits quoted for the rails the
// merchant has (the fixtures' values); other available rails get the
// NACHA limit.
var quoteLimits = map[string]int64{
	SpeedASAP:    500_000,
	SpeedCard:    500_000,
	SpeedSameDay: NACHALimitCents,
	// [ASSUMED] NACHA caps same-day ACH at 1,000,000.00, not standard ACH,
	// and Coinflow sends a larger same_day payout as standard: standard's
	// limit must be above same_day's for that to be payable. The fixture's
	// 1,000,000.00 for standard is invented; the emulator quotes 10x.
	SpeedStandard: 10 * NACHALimitCents,
	SpeedIBAN:     5_000_000, // [ASSUMED] 50,000.00 in the IBAN's currency
	SpeedPIX:      1_000_000, // [ASSUMED] 10,000.00 BRL
}

var deliveryTexts = map[string]string{
	SpeedASAP:     "Instant",
	SpeedCard:     "Instant",
	SpeedPIX:      "Instant",
	SpeedSameDay:  "Same business day",
	SpeedStandard: "1-3 business days",
	SpeedIBAN:     "1 business day",
}

// speedQuotesLocked quotes cents of currency at every speed: fees in USD,
// limits and finalSettlement in currency (priceLocked has the rule).
// [ASSUMED, as the fixture] finalSettlement is the amount less the fee; a
// rail the merchant does not have is quoted with limit 0 and
// "Unavailable".
func (e *Emulator) speedQuotesLocked(cents int64, currency string, rate exchangeRate) speedQuotesJSON {
	entry := func(speed string) quoteEntryJSON {
		if !e.available[speed] {
			return quoteEntryJSON{
				Fee: cc(0, "USD"), Limit: cc(0, currency), FinalSettlement: cc(cents, currency),
				ExpectedDeliveryDate: "Unavailable",
			}
		}
		fee := e.feeFor(speed)
		limit, ok := quoteLimits[speed]
		if !ok {
			limit = NACHALimitCents
		}
		text, ok := deliveryTexts[speed]
		if !ok {
			text = "Within " + e.durationFor(speed).String()
		}
		return quoteEntryJSON{
			Fee: cc(fee, "USD"), Limit: cc(limit, currency), FinalSettlement: cc(finalSettlement(cents, fee, rate), currency),
			ExpectedDeliveryDate:    text,
			ExpectedDeliveryDateISO: isoMillis(e.now.Add(e.durationFor(speed))),
		}
	}
	return speedQuotesJSON{
		ASAP: entry(SpeedASAP), SameDay: entry(SpeedSameDay), Standard: entry(SpeedStandard),
		Card: entry(SpeedCard), IBAN: entry(SpeedIBAN), PIX: entry(SpeedPIX), EFT: entry(SpeedEFT),
		Venmo: entry(SpeedVenmo), PayPal: entry(SpeedPayPal), Wire: entry(SpeedWire),
		Interac:  entry(SpeedInterac),
		Quote:    cc(cents, currency),
		GasFees:  gasFeesJSON{GasFees: cc(0, "USD"), GasFeesWei: "0"},
		SwapFees: cc(0, "USD"),
	}
}

// handleWithdrawQuote is GET /withdraw/quote: the user-side quote, amount
// in token units (USDC dollars).
func (e *Emulator) handleWithdrawQuote(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, k := range []string{"token", "amount", "merchantId"} {
		if first(q, k) == "" {
			writeMsg(w, http.StatusBadRequest, k+" is required")
			return
		}
	}
	amount, ok := parseDollars(first(q, "amount"))
	if !ok {
		writeMsg(w, http.StatusBadRequest, "amount must be a positive number")
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	writeJSON(w, http.StatusOK, e.speedQuotesLocked(amount, "USD", usdRate))
}

// parseDollars reads a decimal amount of dollars exactly (big.Rat, never a
// float) and rounds it to cents, half away from zero.
func parseDollars(s string) (int64, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return 0, false
	}
	cents, ok := roundHalfAway(r.Mul(r, big.NewRat(100, 1)))
	return cents, ok && cents > 0
}
