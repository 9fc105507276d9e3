package coinflow

import (
	"slices"

	"github.com/payoutd/payoutd/rail"
)

// SavedDestination is a saved destination as payoutd records it: no
// account number, no PIX key, only their last 4 characters.
type SavedDestination struct {
	Kind     rail.Destination
	Token    string // what quote and payout take as account
	Last4    string // for a PIX key, the key's last 4 characters
	Alias    string
	Currency string // what the destination is paid in
	Deleted  bool
	// Speeds are the WithdrawSpeeds Coinflow pays this destination with;
	// empty for a card Coinflow says cannot receive a push to card.
	Speeds []string
}

// destinationSpeeds are the speeds Coinflow pays each kind of saved
// destination with (README §4, "Speed ↔ rail"): a US bank account over RTP
// (asap) or ACH (same_day, standard), a debit card by push to card, and
// each other kind over the rail of its name. It is Coinflow's pairing of
// its GET /withdraw lists with its WithdrawSpeed values, so it lives with
// the client rather than in package rail.
var destinationSpeeds = map[rail.Destination][]string{
	rail.BankAccount: {rail.ASAP, rail.SameDay, rail.Standard},
	rail.DebitCard:   {rail.Card},
	rail.IBANAccount: {rail.IBAN},
	rail.PIXKey:      {rail.PIX},
	rail.EFTAccount:  {rail.EFT},
}

// Destinations lists every saved destination, deleted ones included, in
// GET /withdraw's order: bank accounts, cards, IBANs, PIX keys, EFT
// accounts.
//
// Currency: a bank account pays USD; a card pays its currency, USD when it
// has none; a PIX key BRL; an EFT account CAD (rail.Currencies). An IBAN
// entry pays GBP when it has a sort code (a UK account number and sort
// code, paid by Faster Payments); otherwise the withdrawer's payout
// currency (originalCurrency, else currency) when an IBAN can pay it (EUR
// or GBP: a UK withdrawer may give a GB IBAN), else EUR. Coinflow gives no
// currency per IBAN, so this is inferred from what it gives.
func (w *WithdrawerWithAccounts) Destinations() []SavedDestination {
	out := make([]SavedDestination, 0, len(w.BankAccounts)+len(w.Cards)+len(w.Ibans)+len(w.Pixes)+len(w.Efts))
	add := func(kind rail.Destination, list []Destination, currency func(d *Destination) string) {
		for i := range list {
			d := &list[i]
			s := SavedDestination{
				Kind: kind, Token: d.Token, Last4: d.Last4, Alias: d.Alias, Currency: currency(d), Deleted: d.IsDeleted,
				Speeds: slices.Clone(destinationSpeeds[kind]),
			}
			if kind == rail.PIXKey && s.Last4 == "" {
				s.Last4 = d.PixKeyLast4()
			}
			if kind == rail.DebitCard && d.DisbursementStatus == DisbursementIneligible {
				s.Speeds = nil
			}
			out = append(out, s)
		}
	}
	fixed := func(c string) func(*Destination) string { return func(*Destination) string { return c } }
	add(rail.BankAccount, w.BankAccounts, fixed("USD"))
	add(rail.DebitCard, w.Cards, func(d *Destination) string {
		if d.Currency != "" {
			return d.Currency
		}
		return "USD"
	})
	add(rail.IBANAccount, w.Ibans, w.ibanCurrency)
	add(rail.PIXKey, w.Pixes, fixed("BRL"))
	add(rail.EFTAccount, w.Efts, fixed("CAD"))
	return out
}

// ibanCurrency is the rule documented on Destinations.
func (w *WithdrawerWithAccounts) ibanCurrency(d *Destination) string {
	if d.hasSortCode {
		return "GBP"
	}
	for _, c := range []string{w.OriginalCurrency, w.Currency} {
		if c != "" && rail.PaysIn(rail.IBANAccount, c) {
			return c
		}
	}
	return "EUR"
}
