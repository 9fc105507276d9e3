// Package models is payoutd's persistence: the records it keeps (payouts and
// their history, withdrawers, findings, the raw webhook inbox), the Store that
// reads and writes them through GORM, and the versioned SQL migrations for
// PostgreSQL and the embedded SQLite default.
//
// Payout and withdrawer state changes in one place, the pure transition
// functions in transition.go, whatever the source of the evidence (a webhook,
// the initiation API or reconciliation).
package models
