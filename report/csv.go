package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/payoutd/payoutd/models"
)

// csvColumns is the one header of the CSV. Each row names its section in
// the first column and fills the columns that section uses; the others stay
// empty. Money is integer cents, dates are YYYY-MM-DD and times RFC 3339 UTC.
var csvColumns = []string{
	"section", "date", "time", "status", "speed", "requested_speed", "effective_speed", "class", "payer",
	"return_status", "kind", "severity", "bucket", "id", "payout_id", "currency", "count", "cents",
	"balance_cents", "change_cents", "payouts_cents", "fees_cents", "refunded_cents", "explained_cents", "unexplained_cents",
	// Added with payouts in other currencies than the wallet's, after the
	// columns that were there before.
	"foreign_payouts_cents", "unpriced_count", "debited_cents",
}

// The sections of the CSV, in order, with the columns each fills.
const (
	SectionFrom          = "range_from"        // date: first date included
	SectionTo            = "range_to_excluded" // date: first date not included
	SectionGenerated     = "generated_at"      // time
	SectionPayouts       = "payouts"           // date, status, speed, currency, count, cents
	SectionPayoutsTotal  = "payouts_total"     // currency, count, cents
	SectionFees          = "fees"              // date, payer, currency, count, cents
	SectionFeesTotal     = "fees_total"        // payer, currency, count, cents
	SectionSpeeds        = "speeds"            // requested_speed, effective_speed, class, currency, count, cents
	SectionSpeedsTotal   = "speeds_total"      // class, currency, count, cents
	SectionFailures      = "failures"          // status, return_status, currency, count, cents
	SectionFailuresTotal = "failures_total"    // class (failed or returns), currency, count, cents
	SectionAging         = "aging"             // kind, bucket, currency, count, cents
	SectionAgingTotal    = "aging_total"       // kind, currency, count, cents
	SectionWallet        = "wallet"            // time, id (run), currency, balance_cents, and the movement since the previous snapshot
	SectionWalletTotal   = "wallet_total"      // currency, change_cents ... unexplained_cents, foreign_payouts_cents, unpriced_count
	SectionFindingsCount = "findings_count"    // kind, severity, count
	SectionFindingsTotal = "findings_total"    // count
	SectionFinding       = "finding"           // id, time (first seen), status, kind, severity, payout_id
)

// The sections of the wallet debits, written after wallet_total: currency
// is the payouts', and every cents column USD.
const (
	SectionWalletDebits      = "wallet_debits"       // date, currency, count, unpriced_count, debited_cents, refunded_cents
	SectionWalletDebitsTotal = "wallet_debits_total" // currency, count, unpriced_count, debited_cents, refunded_cents
	SectionWalletDebitsAll   = "wallet_debits_all"   // count, unpriced_count, debited_cents, refunded_cents: every currency
)

// The classes of the failures_total rows.
const (
	FailuresTotalFailed  = "failed"
	FailuresTotalReturns = "returns"
)

// WriteCSV writes s as one CSV table with a header row (see csvColumns and
// the Section constants).
func WriteCSV(w io.Writer, s *Summary) error {
	cw := csv.NewWriter(w)
	out := &csvOut{w: cw}
	out.write(csvColumns)
	out.row(SectionFrom, "date", s.From)
	out.row(SectionTo, "date", s.To)
	out.row(SectionGenerated, "time", csvTime(s.GeneratedAt))

	for _, r := range s.Payouts.Rows {
		out.amount(SectionPayouts, r.Amount, "date", r.Date, "status", r.Status, "speed", r.Speed)
	}
	for _, t := range s.Payouts.Totals {
		out.amount(SectionPayoutsTotal, t)
	}
	for _, r := range s.Fees.Rows {
		out.amount(SectionFees, r.Amount, "date", r.Date, "payer", r.Payer)
	}
	out.totals(SectionFeesTotal, "payer", models.FeePayerUser, s.Fees.User)
	out.totals(SectionFeesTotal, "payer", models.FeePayerMerchant, s.Fees.Merchant)
	for _, r := range s.Speeds.Rows {
		out.amount(SectionSpeeds, r.Amount, "requested_speed", r.RequestedSpeed, "effective_speed", r.EffectiveSpeed, "class", r.Class)
	}
	out.totals(SectionSpeedsTotal, "class", models.SpeedAsRequested, s.Speeds.AsRequested)
	out.totals(SectionSpeedsTotal, "class", models.SpeedNACHADowngrade, s.Speeds.NACHADowngrades)
	out.totals(SectionSpeedsTotal, "class", models.SpeedOtherDowngrade, s.Speeds.OtherDowngrades)
	for _, r := range s.Failures.Rows {
		out.amount(SectionFailures, r.Amount, "status", r.Status, "return_status", r.ReturnStatus)
	}
	out.totals(SectionFailuresTotal, "class", FailuresTotalFailed, s.Failures.Failed)
	out.totals(SectionFailuresTotal, "class", FailuresTotalReturns, s.Failures.Returns)
	for _, r := range s.Aging.Rows {
		out.amount(SectionAging, r.Amount, "kind", r.Kind, "bucket", r.Bucket)
	}
	out.totals(SectionAgingTotal, "kind", models.AgingStuck, s.Aging.Stuck)
	out.totals(SectionAgingTotal, "kind", models.AgingUnclaimed, s.Aging.Unclaimed)

	for _, p := range s.Wallet.Snapshots {
		kv := []string{"time", csvTime(p.TakenAt), "id", p.RunID, "currency", p.Balance.Currency, "balance_cents", itoa(p.Balance.Cents)}
		if p.Movement != nil {
			kv = append(kv, movementColumns(p.Movement)...)
		}
		out.row(SectionWallet, kv...)
	}
	out.row(SectionWalletTotal, append([]string{"currency", s.Wallet.Currency}, movementColumns(&s.Wallet.Movement)...)...)
	for _, r := range s.WalletDebits.Rows {
		out.row(SectionWalletDebits, append([]string{"date", r.Date, "currency", r.Currency}, debitColumns(r.USDDebits)...)...)
	}
	for _, t := range s.WalletDebits.Totals {
		out.row(SectionWalletDebitsTotal, append([]string{"currency", t.Currency}, debitColumns(t.USDDebits)...)...)
	}
	out.row(SectionWalletDebitsAll, debitColumns(s.WalletDebits.Total)...)

	for _, c := range s.Findings.Counts {
		out.row(SectionFindingsCount, "kind", c.Kind, "severity", c.Severity, "count", itoa(c.Count))
	}
	out.row(SectionFindingsTotal, "count", itoa(s.Findings.Total))
	for _, f := range s.Findings.List {
		payoutID := ""
		if f.PayoutID != nil {
			payoutID = *f.PayoutID
		}
		out.row(SectionFinding, "id", f.ID, "time", csvTime(f.FirstSeenAt), "status", f.Status, "kind", f.Kind,
			"severity", f.Severity, "payout_id", payoutID)
	}
	if out.err != nil {
		return fmt.Errorf("write report csv: %w", out.err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write report csv: %w", err)
	}
	return nil
}

func movementColumns(m *WalletMovement) []string {
	return []string{
		"change_cents", itoa(m.Change.Cents), "payouts_cents", itoa(m.Payouts.Cents), "fees_cents", itoa(m.Fees.Cents),
		"refunded_cents", itoa(m.Refunded.Cents), "explained_cents", itoa(m.Explained.Cents),
		"unexplained_cents", itoa(m.Unexplained.Cents), "foreign_payouts_cents", itoa(m.ForeignPayouts.Cents),
		"unpriced_count", itoa(m.UnpricedPayouts),
	}
}

func debitColumns(d USDDebits) []string {
	return []string{
		"count", itoa(d.Count), "unpriced_count", itoa(d.Unpriced), "debited_cents", itoa(d.Debited.Cents),
		"refunded_cents", itoa(d.Refunded.Cents),
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func csvTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

type csvOut struct {
	w   *csv.Writer
	err error
}

func (o *csvOut) write(rec []string) {
	if o.err == nil {
		o.err = o.w.Write(rec)
	}
}

// row writes one row of section with the given column, value pairs.
func (o *csvOut) row(section string, kv ...string) {
	rec := make([]string, len(csvColumns))
	rec[0] = section
	for i := 0; i+1 < len(kv); i += 2 {
		rec[slices.Index(csvColumns, kv[i])] = defuse(kv[i+1])
	}
	o.write(rec)
}

func (o *csvOut) amount(section string, a Amount, kv ...string) {
	o.row(section, append(kv, "currency", a.Currency, "count", itoa(a.Count), "cents", itoa(a.Cents))...)
}

func (o *csvOut) totals(section, col, value string, ts []Amount) {
	for _, t := range ts {
		o.amount(section, t, col, value)
	}
}

// defuse keeps a spreadsheet from reading a text cell as a formula: speeds
// and statuses come from Coinflow. Numbers are never defused; a negative
// amount, in cents or as a decimal, stays a number.
func defuse(v string) string {
	if v == "" || strings.IndexByte("=+-@\t\r", v[0]) < 0 || isNumber(v) {
		return v
	}
	return "'" + v
}

// isNumber reports whether v is a plain decimal number: an optional minus,
// digits, and optionally a point and digits. A spreadsheet reads nothing
// else into it.
func isNumber(v string) bool {
	v = strings.TrimPrefix(v, "-")
	whole, frac, dot := strings.Cut(v, ".")
	digits := func(s string) bool {
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	return digits(whole) && (!dot || digits(frac))
}
