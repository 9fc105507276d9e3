package rail

import "slices"

// Destination is a kind of saved payout destination: one of the lists of
// Coinflow's GET /withdraw.
type Destination string

// Destinations.
const (
	BankAccount Destination = "bank_account" // bankAccounts: US ACH and RTP
	DebitCard   Destination = "card"         // cards: US debit cards
	IBANAccount Destination = "iban"         // ibans: SEPA, or a UK account number and sort code
	PIXKey      Destination = "pix"          // pixes
	EFTAccount  Destination = "eft"          // efts: Canadian bank accounts
)

// currencies is what each destination pays in. Coinflow sets a withdrawer's
// payout currency from the verification country (US USD, EU EUR, UK GBP,
// Brazil BRL); that eft pays CAD follows from it being Canada's rail and
// from CAD being a WithdrawCurrency, not from a page that says so.
var currencies = map[Destination][]string{
	BankAccount: {"USD"},
	DebitCard:   {"USD"},
	IBANAccount: {"EUR", "GBP"},
	PIXKey:      {"BRL"},
	EFTAccount:  {"CAD"},
}

// destinations are the kinds in the order GET /withdraw lists them.
var destinations = []Destination{BankAccount, DebitCard, IBANAccount, PIXKey, EFTAccount}

// Currencies returns the currencies d pays in; nil for an unknown kind.
func Currencies(d Destination) []string { return slices.Clone(currencies[d]) }

// PaysIn reports whether d can pay out in currency.
func PaysIn(d Destination, currency string) bool { return slices.Contains(currencies[d], currency) }

// PayoutCurrencies returns every currency some destination pays in: Coinflow's
// WithdrawCurrency (USD, EUR, GBP, BRL, CAD), in that order.
func PayoutCurrencies() []string {
	var out []string
	for _, d := range destinations {
		for _, c := range currencies[d] {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out
}
