package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// The sections about the payouts created in the range (payouts, fees,
// speeds, failures and wallet debits) come from one pass over them,
// models.Store.ReportGroups. Its groups are finer than any section's rows,
// so a row is the sum of the groups that share its keys, and a section's
// totals are sums of its rows as before. The sections are summed one after
// the other, in the order of the report, so that a sum that overflows is
// named as the section that meets it first.

// sums adds up amounts under keys of type K.
type sums[K comparable] struct {
	section, what string // for errors: "report payouts: sum of payout amounts overflows int64"
	m             map[K]*models.ReportSum
}

func newSums[K comparable](section, what string) *sums[K] {
	return &sums[K]{section: section, what: what, m: map[K]*models.ReportSum{}}
}

// add adds count payouts and cents to the sum under k; a sum of no payout
// makes no row.
func (s *sums[K]) add(k K, count, cents int64) error {
	if count == 0 {
		return nil
	}
	t := s.m[k]
	if t == nil {
		t = &models.ReportSum{}
		s.m[k] = t
	}
	c, err := models.AddCents(t.Cents, cents)
	if err != nil {
		return fmt.Errorf("report %s: sum of %s %w", s.section, s.what, models.ErrOverflow)
	}
	t.Count += count
	t.Cents = c
	return nil
}

// rows calls row for each key in the order of compare.
func (s *sums[K]) rows(compare func(a, b K) int, row func(K, models.ReportSum)) {
	for _, k := range slices.SortedFunc(maps.Keys(s.m), compare) {
		row(k, *s.m[k])
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func rangePayouts(s *Summary, gs []models.ReportGroup) error {
	type key struct{ day, status, speed, currency string }
	sum := newSums[key]("payouts", "payout amounts")
	for _, g := range gs {
		speed := g.EffectiveSpeed
		if speed == nil {
			speed = g.RequestedSpeed
		}
		if err := sum.add(key{g.Day, g.Status, str(speed), g.Currency}, g.Count, g.Cents); err != nil {
			return err
		}
	}
	s.Payouts.Rows = []PayoutRow{}
	sum.rows(func(a, b key) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.status, b.status), cmp.Compare(a.speed, b.speed), cmp.Compare(a.currency, b.currency))
	}, func(k key, t models.ReportSum) {
		s.Payouts.Rows = append(s.Payouts.Rows, PayoutRow{Date: k.day, Status: k.status, Speed: k.speed, Amount: amount(k.currency, t.Count, t.Cents)})
	})
	var err error
	s.Payouts.Totals, err = total("payouts", s.Payouts.Rows, func(r PayoutRow) (Amount, bool) { return r.Amount, true })
	return err
}

// rangeFees leaves failed payouts out: their fees are not earned (Coinflow
// gives the merchant fee back with the amount).
func rangeFees(s *Summary, gs []models.ReportGroup) error {
	type key struct{ day, payer, currency string }
	sum := newSums[key]("fees", "fees")
	for _, g := range gs {
		if g.Status == string(models.StatusFailed) {
			continue
		}
		if err := sum.add(key{g.Day, models.FeePayerUser, g.UserFeesCurrency}, g.UserFees.Count, g.UserFees.Cents); err != nil {
			return err
		}
		if err := sum.add(key{g.Day, models.FeePayerMerchant, g.MerchantFeesCurrency}, g.MerchantFees.Count, g.MerchantFees.Cents); err != nil {
			return err
		}
	}
	s.Fees.Rows = []FeeRow{}
	sum.rows(func(a, b key) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.payer, b.payer), cmp.Compare(a.currency, b.currency))
	}, func(k key, t models.ReportSum) {
		s.Fees.Rows = append(s.Fees.Rows, FeeRow{Date: k.day, Payer: k.payer, Amount: amount(k.currency, t.Count, t.Cents)})
	})
	var err error
	if s.Fees.User, err = total("user fees", s.Fees.Rows, func(r FeeRow) (Amount, bool) {
		return r.Amount, r.Payer == models.FeePayerUser
	}); err != nil {
		return err
	}
	s.Fees.Merchant, err = total("merchant fees", s.Fees.Rows, func(r FeeRow) (Amount, bool) {
		return r.Amount, r.Payer == models.FeePayerMerchant
	})
	return err
}

// rangeSpeeds classes a group that went from same_day to standard by the
// NACHA rule (rail.NACHADowngrade, which reconcile's speed check applies):
// USD amounts above the limit, which the store groups apart.
func rangeSpeeds(s *Summary, gs []models.ReportGroup) error {
	type key struct{ class, requested, effective, currency string }
	sum := newSums[key]("speeds", "payout amounts")
	for _, g := range gs {
		if g.RequestedSpeed == nil || g.EffectiveSpeed == nil {
			continue
		}
		req, eff := *g.RequestedSpeed, *g.EffectiveSpeed
		class := models.SpeedOtherDowngrade
		switch {
		case req == eff:
			class = models.SpeedAsRequested
		case g.AboveNACHALimit && req == rail.SameDay && eff == rail.Standard && g.Currency == rail.NACHACurrency:
			class = models.SpeedNACHADowngrade
		}
		if err := sum.add(key{class, req, eff, g.Currency}, g.Count, g.Cents); err != nil {
			return err
		}
	}
	s.Speeds.Rows = []SpeedRow{}
	sum.rows(func(a, b key) int {
		return cmp.Or(cmp.Compare(a.class, b.class), cmp.Compare(a.requested, b.requested), cmp.Compare(a.effective, b.effective),
			cmp.Compare(a.currency, b.currency))
	}, func(k key, t models.ReportSum) {
		s.Speeds.Rows = append(s.Speeds.Rows, SpeedRow{
			RequestedSpeed: k.requested, EffectiveSpeed: k.effective, Class: k.class, Amount: amount(k.currency, t.Count, t.Cents),
		})
	})
	class := func(c string) func(SpeedRow) (Amount, bool) {
		return func(r SpeedRow) (Amount, bool) { return r.Amount, r.Class == c }
	}
	var err error
	if s.Speeds.AsRequested, err = total("payouts as requested", s.Speeds.Rows, class(models.SpeedAsRequested)); err != nil {
		return err
	}
	if s.Speeds.NACHADowngrades, err = total("nacha downgrades", s.Speeds.Rows, class(models.SpeedNACHADowngrade)); err != nil {
		return err
	}
	s.Speeds.OtherDowngrades, err = total("other downgrades", s.Speeds.Rows, class(models.SpeedOtherDowngrade))
	return err
}

func rangeFailures(s *Summary, gs []models.ReportGroup) error {
	type key struct{ status, returnStatus, currency string }
	sum := newSums[key]("failures", "payout amounts")
	for _, g := range gs {
		ret := str(g.ReturnStatus)
		if g.Status != string(models.StatusFailed) && !isReturn(ret) {
			continue
		}
		if err := sum.add(key{g.Status, ret, g.Currency}, g.Count, g.Cents); err != nil {
			return err
		}
	}
	s.Failures.Rows = []FailureRow{}
	sum.rows(func(a, b key) int {
		return cmp.Or(cmp.Compare(a.status, b.status), cmp.Compare(a.returnStatus, b.returnStatus), cmp.Compare(a.currency, b.currency))
	}, func(k key, t models.ReportSum) {
		s.Failures.Rows = append(s.Failures.Rows, FailureRow{Status: k.status, ReturnStatus: k.returnStatus, Amount: amount(k.currency, t.Count, t.Cents)})
	})
	var err error
	if s.Failures.Failed, err = total("failed payouts", s.Failures.Rows, func(r FailureRow) (Amount, bool) {
		return r.Amount, r.Status == string(models.StatusFailed)
	}); err != nil {
		return err
	}
	s.Failures.Returns, err = total("returns", s.Failures.Rows, func(r FailureRow) (Amount, bool) { return r.Amount, isReturn(r.ReturnStatus) })
	return err
}

func isReturn(returnStatus string) bool {
	return returnStatus == models.ReturnStatusPending || returnStatus == models.ReturnStatusCompleted
}

// rangeWalletDebits costs the payouts that reached Coinflow the way the
// wallet_drift check does (models.USDCost): a USD payout its amount and
// merchant fees, a foreign one its wallet debit, or unpriced; refunded for
// those that failed with their return completed.
func rangeWalletDebits(s *Summary, gs []models.ReportGroup) error {
	type key struct{ day, currency string }
	type debits struct {
		count             int64
		debited, refunded models.USDCost
	}
	byKey := map[key]*debits{}
	for _, g := range gs {
		if !g.Reached {
			continue
		}
		cost := models.USDCost{ForeignCents: g.WalletDebit.Cents, Unpriced: g.Count - g.WalletDebit.Count}
		if g.Currency == walletCurrency {
			cost = models.USDCost{AmountCents: g.Cents, FeesCents: g.MerchantFees.Cents}
		}
		k := key{g.Day, g.Currency}
		d := byKey[k]
		if d == nil {
			d = &debits{}
			byKey[k] = d
		}
		d.count += g.Count
		var err error
		if d.debited, err = d.debited.Plus(cost); err != nil {
			return fmt.Errorf("report wallet debits: %w", err)
		}
		if g.Status == string(models.StatusFailed) && str(g.ReturnStatus) == models.ReturnStatusCompleted {
			if d.refunded, err = d.refunded.Plus(cost); err != nil {
				return fmt.Errorf("report wallet debits: %w", err)
			}
		}
	}
	s.WalletDebits.Rows = []WalletDebitRow{}
	for _, k := range slices.SortedFunc(maps.Keys(byKey), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.currency, b.currency))
	}) {
		d := byKey[k]
		what := fmt.Sprintf("%s payouts on %s", k.currency, k.day)
		debited, err := d.debited.Cents("USD debited for " + what)
		if err != nil {
			return err
		}
		refunded, err := d.refunded.Cents("USD refunded for " + what)
		if err != nil {
			return err
		}
		s.WalletDebits.Rows = append(s.WalletDebits.Rows, WalletDebitRow{Date: k.day, CurrencyDebits: CurrencyDebits{
			Currency: k.currency, USDDebits: usdDebits(d.count, d.debited.Unpriced, debited, refunded),
		}})
	}
	var err error
	s.WalletDebits.Totals, s.WalletDebits.Total, err = debitTotals(s.WalletDebits.Rows)
	return err
}
