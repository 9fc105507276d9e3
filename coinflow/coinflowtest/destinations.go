package coinflowtest

import (
	"fmt"
	"slices"
	"strings"
)

// Destination kinds, named as the DELETE /withdraw/{kind}/{token} routes
// name them.
const (
	kindAccount = "account" // US bank account (bankAccounts)
	kindCard    = "card"    // US debit card (cards)
	kindIBAN    = "iban"    // SEPA IBAN or UK account number (ibans)
	kindPIX     = "pix"     // Brazilian PIX key (pixes)
)

// speedsOf are the speeds each kind of destination takes. A card whose
// disbursementStatus is Ineligible takes none.
var speedsOf = map[string][]string{
	kindAccount: {SpeedASAP, SpeedSameDay, SpeedStandard},
	kindCard:    {SpeedCard},
	kindIBAN:    {SpeedIBAN},
	kindPIX:     {SpeedPIX},
}

// ibanCurrencyFor is the currency an IBAN destination is paid in, by the
// IBAN's country: GBP for the UK, EUR otherwise.
func ibanCurrencyFor(country string) string {
	if strings.EqualFold(country, "GB") {
		return "GBP"
	}
	return "EUR"
}

// savedDest is one saved payout destination: the row GET /withdraw shows
// for it (exactly one of bank, card, iban, pix is set) and what the
// emulator knows besides. Full account numbers and PIX keys stay in
// memory only; the emulator writes no logs.
type savedDest struct {
	kind     string
	token    string
	currency string   // the currency it is paid in
	speeds   []string // the speeds it takes
	deleted  bool     // DELETE /withdraw/{kind}/{token}: listed, not payable
	holder   string   // an IBAN's accountHolder, when given

	bank *bankAccountJSON
	card *cardJSON
	iban *ibanJSON
	pix  *pixJSON
}

// ineligible makes a card unable to receive payouts: disbursementStatus
// Ineligible, no speeds.
func (d *savedDest) ineligible() {
	d.card.DisbursementStatus = "Ineligible"
	d.speeds = nil
}

// takes reports whether d can be paid at speed.
func (d *savedDest) takes(speed string) bool { return slices.Contains(d.speeds, speed) }

// findDest returns wd's destination of kind ("" = any kind) with token,
// deleted or not, or nil.
func (wd *withdrawer) findDest(kind, token string) *savedDest {
	for _, d := range wd.dests {
		if d.token == token && (kind == "" || d.kind == kind) {
			return d
		}
	}
	return nil
}

// liveDest returns wd's destination with token unless it is unknown or
// deleted.
func (wd *withdrawer) liveDest(token string) *savedDest {
	if d := wd.findDest("", token); d != nil && !d.deleted {
		return d
	}
	return nil
}

// firstLive returns the token of wd's first live destination of kind, or
// "".
func (wd *withdrawer) firstLive(kind string) string {
	for _, d := range wd.dests {
		if d.kind == kind && !d.deleted {
			return d.token
		}
	}
	return ""
}

// errNotSaved is the 400 message for an account that is not a live
// destination of the withdrawer: unknown, another user's, or deleted.
const errNotSaved = "account is not a saved destination of this withdrawer"

// payableDest finds the live destination account of wd that a quote or a
// payout at speed in currency ("" = the destination's) names, or returns
// the message of a 400: the account is not saved (or deleted), does not
// take speed, or is paid in another currency.
func (wd *withdrawer) payableDest(account, speed, currency string) (*savedDest, string) {
	d := wd.liveDest(account)
	switch {
	case d == nil:
		return nil, errNotSaved
	case d.kind == kindCard && len(d.speeds) == 0:
		return nil, "card is not eligible for disbursements"
	case !d.takes(speed):
		return nil, fmt.Sprintf("a %s destination cannot be paid at speed %s (it takes %s)",
			d.kind, speed, strings.Join(d.speeds, ", "))
	case currency != "" && currency != d.currency:
		return nil, fmt.Sprintf("amount.currency must be %s, the currency of this account", d.currency)
	}
	return d, ""
}

// accountsOf renders wd's destinations as GET /withdraw lists them,
// deleted ones with isDeleted true.
func (wd *withdrawer) accountsOf() (banks []bankAccountJSON, cards []cardJSON, ibans []ibanJSON, pixes []pixJSON, p2c bool) {
	banks, cards, ibans, pixes = []bankAccountJSON{}, []cardJSON{}, []ibanJSON{}, []pixJSON{}
	for _, d := range wd.dests {
		switch d.kind {
		case kindAccount:
			row := *d.bank
			row.IsDeleted = d.deleted
			banks = append(banks, row)
		case kindCard:
			row := *d.card
			row.IsDeleted = d.deleted
			cards = append(cards, row)
			p2c = p2c || (!d.deleted && len(d.speeds) > 0)
		case kindIBAN:
			row := *d.iban
			row.IsDeleted = d.deleted
			ibans = append(ibans, row)
		case kindPIX:
			row := *d.pix
			row.IsDeleted = d.deleted
			pixes = append(pixes, row)
		}
	}
	return banks, cards, ibans, pixes, p2c
}
