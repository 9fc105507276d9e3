package report

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/payoutd/payoutd/models"
)

// The named reports: each is one CSV with a header row and fixed columns,
// one meaning per column. Money is an exact decimal in major units made
// from integer cents ("1234.56", no thousands separator) with its currency
// in a column of its own, so that no column mixes two currencies.
const (
	NamePayouts  = "payouts"  // one row per payout created in the range (itemized.go)
	NameSummary  = "summary"  // totals per currency and status, and the USD wallet debits
	NameFees     = "fees"     // fees per day, payer and currency
	NameSpeeds   = "speeds"   // payouts per requested and effective speed
	NameFailures = "failures" // failed and returned payouts
	NameAging    = "aging"    // payouts waiting now, by age
	NameAll      = "all"      // every section in one table: WriteCSV, as before the named reports
)

// names are the reports in the order Names gives them.
var names = []string{NamePayouts, NameSummary, NameFees, NameSpeeds, NameFailures, NameAging, NameAll}

// Names lists the reports WriteNamed writes, the itemized one first and
// the combined one last.
func Names() []string { return slices.Clone(names) }

// UnknownNameError is WriteNamed's error for a name that is not a report:
// the API answers it with 400 and the CLI exits 2.
type UnknownNameError struct {
	Name string
}

func (e *UnknownNameError) Error() string {
	return fmt.Sprintf("unknown report %q: want one of %s", e.Name, strings.Join(names, ", "))
}

// Lines of the aggregate reports: the first column says whether a row is a
// detail, to be summed, or a total of the detail rows, so that a sum over
// the whole column never counts a payout twice.
const (
	LineDetail = "detail"
	LineTotal  = "total"
)

// Lines of the summary report.
const (
	LinePayouts             = "payouts"               // payouts of one status and currency
	LinePayoutsTotal        = "payouts_total"         // payouts of one currency, every status
	LineWalletDebited       = "wallet_debited"        // USD debited for the payouts of one currency
	LineWalletRefunded      = "wallet_refunded"       // USD credited back for them
	LineWalletDebitedTotal  = "wallet_debited_total"  // USD debited for the payouts of every currency
	LineWalletRefundedTotal = "wallet_refunded_total" // USD credited back for them
)

// The header of each aggregate report.
var (
	summaryColumns  = []string{"line", "status", "payouts_currency", "count", "unpriced_count", "currency", "amount"}
	feesColumns     = []string{"line", "date", "payer", "currency", "count", "amount"}
	speedsColumns   = []string{"line", "class", "requested_speed", "effective_speed", "currency", "count", "amount"}
	failuresColumns = []string{"line", "class", "status", "return_status", "currency", "count", "amount"}
	agingColumns    = []string{"line", "as_of", "kind", "bucket", "currency", "count", "amount"}
)

// aggregates are the reports rendered from a Summary: their header, and
// what writes their rows.
var aggregates = map[string]struct {
	columns []string
	write   func(*table, *Summary) error
}{
	NameSummary:  {summaryColumns, writeSummary},
	NameFees:     {feesColumns, writeFees},
	NameSpeeds:   {speedsColumns, writeSpeeds},
	NameFailures: {failuresColumns, writeFailures},
	NameAging:    {agingColumns, writeAging},
}

// WriteNamed writes the report called name (one of Names) for [from, to)
// to w as CSV. The range is checked as Build checks it (a *RangeError); an
// unknown name is an *UnknownNameError; neither writes anything, nor does
// a failure to read the database before the first row. payouts streams
// (see writePayouts); the others are rendered from the Summary that Build
// computes, so they agree with the API's JSON to the cent.
func WriteNamed(ctx context.Context, w io.Writer, store *models.Store, name string, from, to time.Time) error {
	if !slices.Contains(names, name) {
		return &UnknownNameError{Name: name}
	}
	if name == NamePayouts {
		return writePayouts(ctx, w, store, from, to, payoutsPageSize)
	}
	s, err := Build(ctx, store, from, to)
	if err != nil {
		return err
	}
	if name == NameAll {
		return WriteCSV(w, s)
	}
	a := aggregates[name]
	t := newTable(w, name, a.columns)
	if err := a.write(t, s); err != nil {
		return fmt.Errorf("write %s report: %w", name, err)
	}
	return t.flush()
}

// writeSummary gives the payouts per status and currency (summed from the
// report's rows, which are also per day and speed), their totals per
// currency, and what they cost the USD wallet per payout currency and over
// all of them. The wallet lines' amount is USD; payouts_currency says whose
// payouts they count.
func writeSummary(t *table, s *Summary) error {
	type key struct{ status, currency string }
	sum := newSums[key]("summary", "payout amounts")
	for _, r := range s.Payouts.Rows {
		if err := sum.add(key{r.Status, r.Currency}, r.Count, r.Cents); err != nil {
			return err
		}
	}
	sum.rows(func(a, b key) int {
		return cmp.Or(cmp.Compare(a.currency, b.currency), cmp.Compare(a.status, b.status))
	}, func(k key, v models.ReportSum) {
		t.row(LinePayouts, k.status, k.currency, itoa(v.Count), "", k.currency, decimal(v.Cents))
	})
	for _, a := range s.Payouts.Totals {
		t.row(LinePayoutsTotal, "", a.Currency, itoa(a.Count), "", a.Currency, decimal(a.Cents))
	}
	for _, d := range s.WalletDebits.Totals {
		t.row(LineWalletDebited, "", d.Currency, itoa(d.Count), itoa(d.Unpriced), d.Debited.Currency, decimal(d.Debited.Cents))
		t.row(LineWalletRefunded, "", d.Currency, "", "", d.Refunded.Currency, decimal(d.Refunded.Cents))
	}
	all := s.WalletDebits.Total
	t.row(LineWalletDebitedTotal, "", "", itoa(all.Count), itoa(all.Unpriced), all.Debited.Currency, decimal(all.Debited.Cents))
	t.row(LineWalletRefundedTotal, "", "", "", "", all.Refunded.Currency, decimal(all.Refunded.Cents))
	return nil
}

func writeFees(t *table, s *Summary) error {
	for _, r := range s.Fees.Rows {
		t.row(LineDetail, r.Date, r.Payer, r.Currency, itoa(r.Count), decimal(r.Cents))
	}
	for _, p := range []struct {
		payer  string
		totals []Amount
	}{{models.FeePayerUser, s.Fees.User}, {models.FeePayerMerchant, s.Fees.Merchant}} {
		for _, a := range p.totals {
			t.row(LineTotal, "", p.payer, a.Currency, itoa(a.Count), decimal(a.Cents))
		}
	}
	return nil
}

func writeSpeeds(t *table, s *Summary) error {
	for _, r := range s.Speeds.Rows {
		t.row(LineDetail, r.Class, r.RequestedSpeed, r.EffectiveSpeed, r.Currency, itoa(r.Count), decimal(r.Cents))
	}
	t.totals(s.Speeds.AsRequested, LineTotal, models.SpeedAsRequested, "", "")
	t.totals(s.Speeds.NACHADowngrades, LineTotal, models.SpeedNACHADowngrade, "", "")
	t.totals(s.Speeds.OtherDowngrades, LineTotal, models.SpeedOtherDowngrade, "", "")
	return nil
}

// writeFailures: a detail row has a status and return status and no class;
// a total row has a class (failed, returns) and neither. A payout that
// failed and was returned is in both totals, as in the Summary.
func writeFailures(t *table, s *Summary) error {
	for _, r := range s.Failures.Rows {
		t.row(LineDetail, "", r.Status, r.ReturnStatus, r.Currency, itoa(r.Count), decimal(r.Cents))
	}
	t.totals(s.Failures.Failed, LineTotal, FailuresTotalFailed, "", "")
	t.totals(s.Failures.Returns, LineTotal, FailuresTotalReturns, "", "")
	return nil
}

// writeAging dates every row: the buckets are ages as of generated_at.
func writeAging(t *table, s *Summary) error {
	asOf := csvTime(s.GeneratedAt)
	for _, r := range s.Aging.Rows {
		t.row(LineDetail, asOf, r.Kind, r.Bucket, r.Currency, itoa(r.Count), decimal(r.Cents))
	}
	t.totals(s.Aging.Stuck, LineTotal, asOf, models.AgingStuck, "")
	t.totals(s.Aging.Unclaimed, LineTotal, asOf, models.AgingUnclaimed, "")
	return nil
}

// decimal is cents as an exact decimal in major units: 1234.56, -0.05.
// Minor units are hundredths in every currency Coinflow pays out in (see
// models.Money.String).
func decimal(cents int64) string {
	c := uint64(cents)
	var b []byte
	if cents < 0 {
		b, c = append(b, '-'), -c // in uint64, so that the most negative int64 has a magnitude too
	}
	b = strconv.AppendUint(b, c/100, 10)
	return string(append(b, '.', byte('0'+c%100/10), byte('0'+c%10)))
}

// table writes the rows of one named report, every one as wide as its
// header, with every text cell defused.
type table struct {
	name  string
	width int
	w     *csv.Writer
	err   error
}

// newTable starts a table with its header.
func newTable(w io.Writer, name string, header []string) *table {
	t := &table{name: name, width: len(header), w: csv.NewWriter(w)}
	t.row(slices.Clone(header)...)
	return t
}

func (t *table) row(cells ...string) {
	if t.err != nil {
		return
	}
	if len(cells) != t.width {
		t.err = fmt.Errorf("write %s report: a row of %d columns, want %d", t.name, len(cells), t.width)
		return
	}
	for i, c := range cells {
		cells[i] = defuse(c)
	}
	t.err = t.w.Write(cells)
}

// totals writes a total row per currency of as: line and the three cells
// that say what it totals, then currency, count and amount.
func (t *table) totals(as []Amount, line, a, b, c string) {
	for _, x := range as {
		t.row(line, a, b, c, x.Currency, itoa(x.Count), decimal(x.Cents))
	}
}

// flush writes out what the csv.Writer holds.
func (t *table) flush() error {
	if t.err != nil {
		return t.err
	}
	t.w.Flush()
	if err := t.w.Error(); err != nil {
		return fmt.Errorf("write %s report: %w", t.name, err)
	}
	return nil
}
