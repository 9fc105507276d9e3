package rail

// NACHALimitCents is NACHA's same-day ACH per-payment limit, $1,000,000:
// Coinflow sends a same_day payout above it as standard and says so in
// effectiveSpeed.
const NACHALimitCents = 100_000_000

// NACHACurrency is the currency the limit is in: same-day ACH pays US
// dollars only.
const NACHACurrency = "USD"

// NACHADowngrade reports whether a payout requested at requested and paid
// at effective, of cents in currency, is the NACHA rule at work: same_day
// above the limit, paid standard. Any other difference is not expected.
func NACHADowngrade(requested, effective, currency string, cents int64) bool {
	return requested == SameDay && effective == Standard && currency == NACHACurrency && cents > NACHALimitCents
}
