// Package report builds the finance report: what was paid out over a range
// of UTC dates, at what speed and cost, what failed or came back, what is
// still waiting, how the wallet moved, and what reconciliation still flags.
// The API (GET /api/v1/reports/summary) and the CLI (payoutd report) serve
// the same Summary as JSON, and the same CSVs: WriteNamed writes each of
// the reports Names lists, from an itemized one of every payout (read in
// pages, itemized.go) to the combined table of every section (WriteCSV).
//
// The range is [From, To) in whole UTC dates: To is the first day NOT
// included, so From 2025-06-01 To 2025-06-02 is the single day of June 1.
//
// Money is exact integer cents per currency; no total ever adds two
// currencies. Every total is computed from the rows it summarises, so it
// equals their sum (Check verifies that).
package report

import (
	"time"

	"github.com/payoutd/payoutd/models"
)

// Summary is the finance report for [From, To).
//
// Payouts, Fees, Speeds and Failures cover the payouts created in the range,
// each in its state as of GeneratedAt. Wallet covers the balance snapshots
// taken in the range. Aging and Findings are the state as of GeneratedAt,
// whatever the range: what is waiting or flagged now, however old.
type Summary struct {
	From        string    `json:"from"` // first date included, YYYY-MM-DD
	To          string    `json:"to"`   // first date NOT included
	GeneratedAt time.Time `json:"generated_at"`
	Payouts     Payouts   `json:"payouts"`
	Fees        Fees      `json:"fees"`
	Speeds      Speeds    `json:"speeds"`
	Failures    Failures  `json:"failures"`
	Aging       Aging     `json:"aging"`
	Wallet      Wallet    `json:"wallet"`
	// WalletDebits is what the payouts created in the range cost the USD
	// wallet, per payout currency.
	WalletDebits WalletDebits `json:"wallet_debits"`
	Findings     Findings     `json:"findings"`
}

// Amount is a number of payouts and their sum in one currency. Rows embed
// it, so its fields sit beside the row's own in JSON.
type Amount struct {
	Currency  string `json:"currency"`
	Count     int64  `json:"count"`
	Cents     int64  `json:"cents"`
	Formatted string `json:"formatted"` // for people, e.g. "1,234.56 USD"
}

func amount(currency string, count, cents int64) Amount {
	return Amount{Currency: currency, Count: count, Cents: cents, Formatted: models.Money{Cents: cents, Currency: currency}.String()}
}

// Money is an exact amount with its formatted form for people.
type Money struct {
	Cents     int64  `json:"cents"`
	Currency  string `json:"currency"`
	Formatted string `json:"formatted"`
}

func money(cents int64, currency string) Money {
	return Money{Cents: cents, Currency: currency, Formatted: models.Money{Cents: cents, Currency: currency}.String()}
}

// Payouts is every payout created in the range.
type Payouts struct {
	Rows   []PayoutRow `json:"rows"`
	Totals []Amount    `json:"totals"` // per currency
}

// PayoutRow is the payouts of one day, status, speed and currency.
type PayoutRow struct {
	Date   string `json:"date"`   // UTC date created
	Status string `json:"status"` // status now
	Speed  string `json:"speed"`  // effective speed, else requested, else ""
	Amount
}

// Fees is the fees of the payouts created in the range that did not fail.
// Count is the number of payouts that carried a fee.
type Fees struct {
	Rows     []FeeRow `json:"rows"`
	User     []Amount `json:"user"`     // per currency
	Merchant []Amount `json:"merchant"` // per currency
}

// FeeRow is the fees one payer (user or merchant) paid on one day in one
// currency.
type FeeRow struct {
	Date  string `json:"date"`
	Payer string `json:"payer"`
	Amount
}

// Speeds compares the requested and effective speeds of the payouts
// created in the range for which both are known. Coinflow only ever slows a
// payout down, so any difference is a downgrade; NACHA downgrades (same_day
// above 1,000,000.00 USD, paid standard by rule) are expected and counted
// apart from the others.
type Speeds struct {
	Rows            []SpeedRow `json:"rows"`
	AsRequested     []Amount   `json:"as_requested"`     // per currency
	NACHADowngrades []Amount   `json:"nacha_downgrades"` // per currency
	OtherDowngrades []Amount   `json:"other_downgrades"` // per currency
}

// SpeedRow is the payouts of one requested and effective speed pair.
type SpeedRow struct {
	RequestedSpeed string `json:"requested_speed"`
	EffectiveSpeed string `json:"effective_speed"`
	Class          string `json:"class"` // as_requested, nacha_downgrade, other_downgrade
	Amount
}

// Failures is the payouts created in the range that failed or are being
// returned. A return is a payout whose return status is pending_return or
// return_completed: a bank return after success, or (Coinflow's way) a
// failure whose funds came back.
type Failures struct {
	Rows    []FailureRow `json:"rows"`
	Failed  []Amount     `json:"failed"`  // status failed, per currency
	Returns []Amount     `json:"returns"` // pending_return or return_completed, per currency
}

// FailureRow is the payouts of one status, return status and currency.
type FailureRow struct {
	Status       string `json:"status"`
	ReturnStatus string `json:"return_status"` // "" when none
	Amount
}

// The age buckets of Aging, by age measured from creation to GeneratedAt.
const (
	AgeUnder1Day = "<1d"  // under 24 hours
	Age1To3Days  = "1-3d" // 24 hours to under 72
	Age3To7Days  = "3-7d" // 72 hours to under 168
	AgeOver7Days = ">7d"  // 168 hours or more
)

// Aging is the payouts waiting as of GeneratedAt, created whenever: those
// with an unresolved stuck_payout finding and those waiting for their
// recipient to claim them (status detail unclaimed).
type Aging struct {
	Rows      []AgingRow `json:"rows"`
	Stuck     []Amount   `json:"stuck"`     // per currency
	Unclaimed []Amount   `json:"unclaimed"` // per currency
}

// AgingRow is the waiting payouts of one kind, age bucket and currency.
type AgingRow struct {
	Kind   string `json:"kind"`   // stuck or unclaimed
	Bucket string `json:"bucket"` // <1d, 1-3d, 3-7d, >7d
	Amount
}

// Wallet is the Coinflow wallet balance (USD) at each snapshot taken in the
// range, with what moved between consecutive snapshots.
type Wallet struct {
	Currency  string        `json:"currency"`
	Snapshots []WalletPoint `json:"snapshots"`
	// Movement sums the movements of the snapshots: from the first snapshot
	// in the range to the last.
	Movement WalletMovement `json:"movement"`
}

// WalletPoint is one balance snapshot.
type WalletPoint struct {
	TakenAt time.Time `json:"taken_at"`
	RunID   string    `json:"run_id"`
	Balance Money     `json:"balance"`
	// Movement is since the previous snapshot; nil on the first.
	Movement *WalletMovement `json:"movement"`
}

// WalletMovement explains a change of balance with local evidence (see
// models.Store.WalletMovementBetween), all in USD: USD payouts debited with
// their merchant fees (Payouts, Fees), foreign payouts debited what
// Coinflow priced them at in USD, fees included (ForeignPayouts), failures
// and returns credited back (Refunded). Explained is
// Refunded - (Payouts + Fees + ForeignPayouts); Unexplained is
// Change - Explained, what payoutd's records do not account for.
// UnpricedPayouts counts the foreign payouts that moved the wallet in the
// interval with no USD price yet: their cost is in no figure, so while it is
// not 0 Unexplained holds it too.
type WalletMovement struct {
	Change          Money `json:"change"`
	Payouts         Money `json:"payouts"`
	Fees            Money `json:"fees"`
	ForeignPayouts  Money `json:"foreign_payouts"`
	Refunded        Money `json:"refunded"`
	Explained       Money `json:"explained"`
	Unexplained     Money `json:"unexplained"`
	UnpricedPayouts int64 `json:"unpriced_payouts"`
}

// WalletDebits is what the payouts created in the range that reached
// Coinflow cost the USD wallet, by payout currency: a USD payout its amount
// and merchant fees, a foreign payout the USD debit Coinflow priced it at,
// its fees included (the rule of the wallet_drift check, models.USDCost).
// The money is USD whatever the payouts' currency, so Total adds every
// currency. A foreign payout Coinflow has not priced yet is counted in
// Unpriced and in no sum.
type WalletDebits struct {
	Rows   []WalletDebitRow `json:"rows"`
	Totals []CurrencyDebits `json:"totals"` // per payout currency
	Total  USDDebits        `json:"total"`  // every currency
}

// USDDebits is a number of payouts and what they cost the USD wallet.
type USDDebits struct {
	Count    int64 `json:"count"`    // payouts that reached Coinflow
	Unpriced int64 `json:"unpriced"` // of those, foreign payouts not priced yet: in neither sum
	Debited  Money `json:"debited"`  // USD debited for them
	Refunded Money `json:"refunded"` // USD credited back for those whose funds came back (failed, return completed)
}

// CurrencyDebits is USDDebits for the payouts of one currency.
type CurrencyDebits struct {
	Currency string `json:"currency"` // the payouts' currency; the money is USD
	USDDebits
}

// WalletDebitRow is USDDebits for the payouts of one day and currency.
type WalletDebitRow struct {
	Date string `json:"date"` // UTC date created
	CurrencyDebits
}

// MaxListedFindings is how many findings Findings lists: the oldest. A
// report over a database with 10,000 open findings inlined them all before
// (5 MB of JSON); their counts say how many there are of each.
const MaxListedFindings = 100

// Findings is every finding not resolved as of GeneratedAt (status open or
// acknowledged), whenever it was raised: all of them counted, the oldest
// MaxListedFindings listed.
type Findings struct {
	Counts []FindingCount `json:"counts"` // per kind and severity
	Total  int64          `json:"total"`
	List   []Finding      `json:"list"` // oldest first, at most MaxListedFindings
	// ListTruncated says that more findings are unresolved than List
	// holds: Total of them.
	ListTruncated bool `json:"list_truncated"`
}

// FindingCount is the number of findings of one kind and severity.
type FindingCount struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Count    int64  `json:"count"`
}

// Finding is one unresolved finding.
type Finding struct {
	ID          string         `json:"id"`
	Kind        string         `json:"kind"`
	Severity    string         `json:"severity"`
	Status      string         `json:"status"`
	Subject     string         `json:"subject"`
	PayoutID    *string        `json:"payout_id"`
	UserID      *string        `json:"user_id"`
	FirstSeenAt time.Time      `json:"first_seen_at"`
	LastSeenAt  time.Time      `json:"last_seen_at"`
	Details     models.Details `json:"details"`
}
