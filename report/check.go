package report

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/payoutd/payoutd/models"
)

// Check recomputes every total of s from the rows it summarises, and the
// wallet's arithmetic from its snapshots, and returns every difference. A
// summary from Build always passes; tests, and consumers of a decoded
// summary, use it to verify one.
func (s *Summary) Check() error {
	var errs []error
	sums := func(what string, got []Amount, rows []Amount) {
		errs = append(errs, checkTotals(what, got, rows)...)
	}

	var payouts []Amount
	for _, r := range s.Payouts.Rows {
		payouts = append(payouts, r.Amount)
	}
	sums("payouts", s.Payouts.Totals, payouts)

	var user, merchant []Amount
	for _, r := range s.Fees.Rows {
		switch r.Payer {
		case models.FeePayerUser:
			user = append(user, r.Amount)
		case models.FeePayerMerchant:
			merchant = append(merchant, r.Amount)
		default:
			errs = append(errs, fmt.Errorf("fees: unknown payer %q", r.Payer))
		}
	}
	sums("user fees", s.Fees.User, user)
	sums("merchant fees", s.Fees.Merchant, merchant)

	classes := map[string][]Amount{}
	for _, r := range s.Speeds.Rows {
		same := r.RequestedSpeed == r.EffectiveSpeed
		if same != (r.Class == models.SpeedAsRequested) {
			errs = append(errs, fmt.Errorf("speeds: %s -> %s classed %s", r.RequestedSpeed, r.EffectiveSpeed, r.Class))
		}
		classes[r.Class] = append(classes[r.Class], r.Amount)
	}
	sums("as requested", s.Speeds.AsRequested, classes[models.SpeedAsRequested])
	sums("nacha downgrades", s.Speeds.NACHADowngrades, classes[models.SpeedNACHADowngrade])
	sums("other downgrades", s.Speeds.OtherDowngrades, classes[models.SpeedOtherDowngrade])

	var failed, returns []Amount
	for _, r := range s.Failures.Rows {
		if r.Status == string(models.StatusFailed) {
			failed = append(failed, r.Amount)
		}
		if isReturn(r.ReturnStatus) {
			returns = append(returns, r.Amount)
		}
	}
	sums("failed", s.Failures.Failed, failed)
	sums("returns", s.Failures.Returns, returns)

	kinds := map[string][]Amount{}
	for _, r := range s.Aging.Rows {
		kinds[r.Kind] = append(kinds[r.Kind], r.Amount)
	}
	sums("stuck", s.Aging.Stuck, kinds[models.AgingStuck])
	sums("unclaimed", s.Aging.Unclaimed, kinds[models.AgingUnclaimed])

	errs = append(errs, s.Wallet.check()...)
	errs = append(errs, s.WalletDebits.check()...)

	errs = append(errs, s.Findings.check()...)
	return errors.Join(errs...)
}

// check holds the counts to the total, and the list to both: the whole of
// them when it is complete, else MaxListedFindings of them.
func (f *Findings) check() []error {
	var errs []error
	var n int64
	counted := map[[2]string]int64{}
	for _, c := range f.Counts {
		n += c.Count
		counted[[2]string{c.Kind, c.Severity}] += c.Count
	}
	listed := int64(len(f.List))
	if n != f.Total {
		errs = append(errs, fmt.Errorf("findings: total %d, counts sum to %d", f.Total, n))
	}
	if f.ListTruncated {
		if listed != MaxListedFindings || f.Total <= listed {
			errs = append(errs, fmt.Errorf("findings: list of %d cut short of a total of %d (lists %d)", listed, f.Total, MaxListedFindings))
		}
		return errs
	}
	if listed != f.Total {
		errs = append(errs, fmt.Errorf("findings: total %d, list has %d", f.Total, listed))
	}
	for _, x := range f.List {
		counted[[2]string{x.Kind, x.Severity}]--
	}
	for k, d := range counted {
		if d != 0 {
			errs = append(errs, fmt.Errorf("findings: count of %s/%s is off by %d from the list", k[0], k[1], d))
		}
	}
	return errs
}

// checkTotals compares totals with the per-currency sums of rows.
func checkTotals(what string, totals, rows []Amount) []error {
	type sum struct{ count, cents int64 }
	want := map[string]sum{}
	var errs []error
	for _, r := range rows {
		w := want[r.Currency]
		w.count += r.Count
		w.cents += r.Cents
		want[r.Currency] = w
		errs = append(errs, checkFormatted(what+" row", r.Cents, r.Currency, r.Formatted)...)
	}
	if len(totals) != len(want) {
		errs = append(errs, fmt.Errorf("%s: %d currency totals for %d currencies in the rows", what, len(totals), len(want)))
	}
	for _, t := range totals {
		w, ok := want[t.Currency]
		if !ok || w.count != t.Count || w.cents != t.Cents {
			errs = append(errs, fmt.Errorf("%s %s: total %d payouts, %d cents; rows sum to %d, %d", what, t.Currency, t.Count, t.Cents, w.count, w.cents))
		}
		errs = append(errs, checkFormatted(what+" total", t.Cents, t.Currency, t.Formatted)...)
	}
	return errs
}

func checkFormatted(what string, cents int64, currency, formatted string) []error {
	if want := (models.Money{Cents: cents, Currency: currency}).String(); formatted != want {
		return []error{fmt.Errorf("%s: %d %s formatted %q, want %q", what, cents, currency, formatted, want)}
	}
	return nil
}

func (w *Wallet) check() []error {
	var errs []error
	var sum movementSum
	for i, p := range w.Snapshots {
		errs = append(errs, checkFormatted("wallet balance", p.Balance.Cents, p.Balance.Currency, p.Balance.Formatted)...)
		if i == 0 {
			if p.Movement != nil {
				errs = append(errs, errors.New("wallet: the first snapshot has a movement"))
			}
			continue
		}
		m := p.Movement
		if m == nil {
			errs = append(errs, fmt.Errorf("wallet: snapshot %d has no movement", i))
			continue
		}
		at := p.TakenAt.Format(time.RFC3339)
		if d := p.Balance.Cents - w.Snapshots[i-1].Balance.Cents; m.Change.Cents != d {
			errs = append(errs, fmt.Errorf("wallet at %s: change %d, balances differ by %d", at, m.Change.Cents, d))
		}
		errs = append(errs, m.check("wallet at "+at)...)
		sum = sum.plus(m.sum())
	}
	t := w.Movement
	errs = append(errs, t.check("wallet movement")...)
	if t.sum() != sum {
		errs = append(errs, fmt.Errorf("wallet movement %+v does not sum its snapshots' %+v", t.sum(), sum))
	}
	if n := len(w.Snapshots); n > 0 && t.Change.Cents != w.Snapshots[n-1].Balance.Cents-w.Snapshots[0].Balance.Cents {
		errs = append(errs, fmt.Errorf("wallet movement: change %d, first to last balance %d", t.Change.Cents,
			w.Snapshots[n-1].Balance.Cents-w.Snapshots[0].Balance.Cents))
	}
	return errs
}

// movementSum is a WalletMovement's figures, to add up and compare.
type movementSum struct{ change, payouts, fees, foreign, refunded, explained, unexplained, unpriced int64 }

func (m *WalletMovement) sum() movementSum {
	return movementSum{
		m.Change.Cents, m.Payouts.Cents, m.Fees.Cents, m.ForeignPayouts.Cents, m.Refunded.Cents,
		m.Explained.Cents, m.Unexplained.Cents, m.UnpricedPayouts,
	}
}

func (a movementSum) plus(b movementSum) movementSum {
	return movementSum{
		a.change + b.change, a.payouts + b.payouts, a.fees + b.fees, a.foreign + b.foreign, a.refunded + b.refunded,
		a.explained + b.explained, a.unexplained + b.unexplained, a.unpriced + b.unpriced,
	}
}

func (m *WalletMovement) check(what string) []error {
	var errs []error
	for _, v := range []Money{m.Change, m.Payouts, m.Fees, m.ForeignPayouts, m.Refunded, m.Explained, m.Unexplained} {
		if v.Currency != walletCurrency {
			errs = append(errs, fmt.Errorf("%s: currency %q in the USD wallet", what, v.Currency))
		}
		errs = append(errs, checkFormatted(what, v.Cents, v.Currency, v.Formatted)...)
	}
	if e := m.Refunded.Cents - m.Payouts.Cents - m.Fees.Cents - m.ForeignPayouts.Cents; m.Explained.Cents != e {
		errs = append(errs, fmt.Errorf("%s: explained %d, refunded - payouts - fees - foreign payouts is %d", what, m.Explained.Cents, e))
	}
	if u := m.Change.Cents - m.Explained.Cents; m.Unexplained.Cents != u {
		errs = append(errs, fmt.Errorf("%s: unexplained %d, change - explained is %d", what, m.Unexplained.Cents, u))
	}
	if m.UnpricedPayouts < 0 {
		errs = append(errs, fmt.Errorf("%s: %d unpriced payouts", what, m.UnpricedPayouts))
	}
	return errs
}

// check recomputes the totals from the rows, and the total from the
// totals, and holds every figure to the USD wallet.
func (d *WalletDebits) check() []error {
	var errs []error
	for _, r := range d.Rows {
		errs = append(errs, r.USDDebits.check(fmt.Sprintf("wallet debits of %s payouts on %s", r.Currency, r.Date))...)
	}
	sum := usdDebits(0, 0, 0, 0)
	for _, t := range d.Totals {
		errs = append(errs, t.USDDebits.check("wallet debits of "+t.Currency+" payouts")...)
		var err error
		if sum, err = sum.plus(t.USDDebits, "payouts in every currency"); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, d.Total.check("wallet debits of every payout")...)
	totals, _, err := debitTotals(d.Rows)
	switch {
	case err != nil:
		errs = append(errs, err)
	case !slices.Equal(totals, d.Totals):
		errs = append(errs, fmt.Errorf("wallet debits: totals %+v, rows sum to %+v", d.Totals, totals))
	}
	if sum != d.Total {
		errs = append(errs, fmt.Errorf("wallet debits: total %+v, totals per currency sum to %+v", d.Total, sum))
	}
	return errs
}

func (d USDDebits) check(what string) []error {
	var errs []error
	for _, v := range []Money{d.Debited, d.Refunded} {
		if v.Currency != walletCurrency {
			errs = append(errs, fmt.Errorf("%s: currency %q for the USD wallet", what, v.Currency))
		}
		errs = append(errs, checkFormatted(what, v.Cents, v.Currency, v.Formatted)...)
	}
	if d.Unpriced < 0 || d.Unpriced > d.Count {
		errs = append(errs, fmt.Errorf("%s: %d unpriced of %d payouts", what, d.Unpriced, d.Count))
	}
	return errs
}
