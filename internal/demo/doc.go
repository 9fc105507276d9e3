// Package demo is the scripted part of `payoutd demo`: the payout traffic
// it sends through payoutd's API while the Coinflow emulator behind payoutd
// is told to misbehave, the client for payoutd's API it does that with, and
// the summary of the reconciliation run that follows, which shows every
// kind of finding the traffic provokes (Kinds).
//
// Package main starts the emulator and payoutd and hands both to Play.
package demo
