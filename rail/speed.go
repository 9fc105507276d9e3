// Package rail describes Coinflow's payout rails: the withdraw speeds, which
// of them are instant, how long each may take to deliver, NACHA's same-day
// limit, and the currency each kind of saved destination pays in. It is the
// one place those facts live; it imports nothing from payoutd, so every
// package can use it.
package rail

import "slices"

// Withdraw speeds: Coinflow's WithdrawSpeed enum, the request's speed and
// the answer's effectiveSpeed.
const (
	ASAP     = "asap"     // US bank account over RTP, instant
	SameDay  = "same_day" // US bank account over same-day ACH
	Standard = "standard" // US bank account over standard ACH
	Card     = "card"     // push to a US debit card, instant
	IBAN     = "iban"     // SEPA or UK Faster Payments
	PIX      = "pix"      // Brazil's PIX, instant
	EFT      = "eft"      // Canada's EFT
	Venmo    = "venmo"
	PayPal   = "paypal"
	Wire     = "wire"
	Interac  = "interac" // Canada's Interac e-Transfer
)

// speeds are every speed in the spec's order.
var speeds = []string{ASAP, SameDay, Standard, Card, IBAN, PIX, EFT, Venmo, PayPal, Wire, Interac}

// instant are the speeds that deliver in minutes rather than business days.
var instant = []string{ASAP, Card, PIX, Venmo, PayPal, Interac}

// Speeds returns every speed Coinflow accepts, in the spec's order.
func Speeds() []string { return slices.Clone(speeds) }

// Valid reports whether speed is one Coinflow accepts.
func Valid(speed string) bool { return slices.Contains(speeds, speed) }

// Instant reports whether speed delivers within minutes (RTP, push to card,
// PIX, Venmo, PayPal, Interac) instead of on a business-day schedule.
func Instant(speed string) bool { return slices.Contains(instant, speed) }
