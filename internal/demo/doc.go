// Package demo is the scripted part of `payoutd demo`: the onboarding it
// does through payoutd's API (a US withdrawer approved at once, a German
// and a Brazilian one verified on Coinflow's hosted page, their bank
// account, card, IBAN and PIX key saved), the payout traffic it then sends
// while the Coinflow emulator behind payoutd is told to misbehave, the
// client for payoutd's API it does that with, and the summary of the
// reconciliation run that follows, which shows every kind of finding the
// traffic provokes (Kinds) and the payouts in each currency.
//
// Package main starts the emulator and payoutd and hands both to Play.
package demo
