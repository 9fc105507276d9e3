package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// walletCurrency is the Coinflow wallet's: every wallet figure is in it.
const walletCurrency = models.WalletCurrency

// ageBuckets are the Aging buckets but the last, each with the age it stays
// under.
var ageBuckets = []struct {
	name  string
	under time.Duration
}{
	{AgeUnder1Day, 24 * time.Hour},
	{Age1To3Days, 72 * time.Hour},
	{Age3To7Days, 7 * 24 * time.Hour},
}

// Build computes the report for [from, to): from and to are UTC midnights
// (a *RangeError otherwise), to excluded. The grouping happens in the
// database, in one pass over the payouts of the range; rows and totals are
// summed here from its groups. On PostgreSQL every section reads the same
// snapshot of the database.
func Build(ctx context.Context, store *models.Store, from, to time.Time) (*Summary, error) {
	if err := CheckRange(from, to); err != nil {
		return nil, err
	}
	from, to = from.UTC(), to.UTC()
	var s *Summary
	err := store.ReportRead(ctx, func(st *models.Store) error {
		var err error
		s, err = build(ctx, st, from, to)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("build report %s to %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	return s, nil
}

func build(ctx context.Context, st *models.Store, from, to time.Time) (*Summary, error) {
	s := &Summary{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), GeneratedAt: st.Now()}
	if err := buildRange(ctx, st, s, from, to); err != nil {
		return nil, err
	}
	for _, section := range []func(context.Context, *models.Store, *Summary, time.Time, time.Time) error{
		buildAging, buildWallet, buildFindings,
	} {
		if err := section(ctx, st, s, from, to); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// buildRange fills the sections about the payouts created in the range
// from one pass over them (see groups.go).
func buildRange(ctx context.Context, st *models.Store, s *Summary, from, to time.Time) error {
	gs, err := st.ReportGroups(ctx, from, to, rail.NACHALimitCents)
	if err != nil {
		return err
	}
	for _, section := range []func(*Summary, []models.ReportGroup) error{
		rangePayouts, rangeFees, rangeSpeeds, rangeFailures, rangeWalletDebits,
	} {
		if err := section(s, gs); err != nil {
			return err
		}
	}
	return nil
}

func buildAging(ctx context.Context, st *models.Store, s *Summary, _, _ time.Time) error {
	cutoffs := make([]time.Time, len(ageBuckets))
	for i, b := range ageBuckets {
		cutoffs[i] = s.GeneratedAt.Add(-b.under)
	}
	rows, err := st.ReportAging(ctx, cutoffs)
	if err != nil {
		return err
	}
	s.Aging.Rows = make([]AgingRow, len(rows))
	for i, r := range rows {
		bucket := AgeOver7Days
		if r.Bucket < len(ageBuckets) {
			bucket = ageBuckets[r.Bucket].name
		}
		s.Aging.Rows[i] = AgingRow{Kind: r.Kind, Bucket: bucket, Amount: amount(r.Currency, r.Count, r.Cents)}
	}
	kind := func(k string) func(AgingRow) (Amount, bool) {
		return func(r AgingRow) (Amount, bool) { return r.Amount, r.Kind == k }
	}
	if s.Aging.Stuck, err = total("stuck payouts", s.Aging.Rows, kind(models.AgingStuck)); err != nil {
		return err
	}
	s.Aging.Unclaimed, err = total("unclaimed payouts", s.Aging.Rows, kind(models.AgingUnclaimed))
	return err
}

// buildWallet explains each step between consecutive snapshots with
// WalletMovementPerStep, which sums the same evidence as reconcile's
// wallet_drift check (WalletMovementBetween), so the report and the
// findings agree on what is unexplained.
func buildWallet(ctx context.Context, st *models.Store, s *Summary, from, to time.Time) error {
	snaps, err := st.WalletSnapshotList(ctx, from, to)
	if err != nil {
		return err
	}
	times := make([]time.Time, len(snaps))
	for i, w := range snaps {
		times[i] = w.TakenAt
	}
	moves, err := st.WalletMovementPerStep(ctx, times)
	if err != nil {
		return err
	}
	s.Wallet.Currency = walletCurrency
	s.Wallet.Snapshots = make([]WalletPoint, len(snaps))
	var sum models.WalletMovement
	var change int64
	for i, w := range snaps {
		s.Wallet.Snapshots[i] = WalletPoint{TakenAt: w.TakenAt.UTC(), RunID: w.RunID, Balance: money(w.BalanceCents, walletCurrency)}
		if i == 0 {
			continue
		}
		step, err := models.SubCents(w.BalanceCents, snaps[i-1].BalanceCents)
		if err != nil {
			return fmt.Errorf("wallet change to %s %w", w.TakenAt.UTC().Format(time.RFC3339), err)
		}
		mv, err := movement(step, moves[i])
		if err != nil {
			return fmt.Errorf("wallet movement to %s: %w", w.TakenAt.UTC().Format(time.RFC3339), err)
		}
		s.Wallet.Snapshots[i].Movement = &mv
		if change, err = models.AddCents(change, step); err != nil {
			return fmt.Errorf("total wallet change %w", err)
		}
		if sum, err = sum.Plus(moves[i]); err != nil {
			return fmt.Errorf("total wallet movement: %w", err)
		}
	}
	s.Wallet.Movement, err = movement(change, sum)
	if err != nil {
		return fmt.Errorf("total wallet movement: %w", err)
	}
	return nil
}

// movement explains change with m; ErrOverflow when what m explains, or
// the rest, does not fit in an int64.
func movement(change int64, m models.WalletMovement) (WalletMovement, error) {
	explained, err := m.Explained()
	if err != nil {
		return WalletMovement{}, err
	}
	unexplained, err := models.SubCents(change, explained)
	if err != nil {
		return WalletMovement{}, fmt.Errorf("unexplained wallet change %w", err)
	}
	return WalletMovement{
		Change:          money(change, walletCurrency),
		Payouts:         money(m.PayoutsCents, walletCurrency),
		Fees:            money(m.FeesCents, walletCurrency),
		ForeignPayouts:  money(m.ForeignCents, walletCurrency),
		Refunded:        money(m.RefundedCents, walletCurrency),
		Explained:       money(explained, walletCurrency),
		Unexplained:     money(unexplained, walletCurrency),
		UnpricedPayouts: m.Unpriced,
	}, nil
}

func usdDebits(count, unpriced, debited, refunded int64) USDDebits {
	return USDDebits{Count: count, Unpriced: unpriced, Debited: money(debited, walletCurrency), Refunded: money(refunded, walletCurrency)}
}

// plus is d+o; ErrOverflow naming what the sum is for.
func (d USDDebits) plus(o USDDebits, what string) (USDDebits, error) {
	debited, err := models.AddCents(d.Debited.Cents, o.Debited.Cents)
	if err != nil {
		return d, fmt.Errorf("total of USD debited for %s %w", what, err)
	}
	refunded, err := models.AddCents(d.Refunded.Cents, o.Refunded.Cents)
	if err != nil {
		return d, fmt.Errorf("total of USD refunded for %s %w", what, err)
	}
	return usdDebits(d.Count+o.Count, d.Unpriced+o.Unpriced, debited, refunded), nil
}

// debitTotals sums rows per payout currency, sorted by currency, and over
// every currency: the sums are all USD.
func debitTotals(rows []WalletDebitRow) ([]CurrencyDebits, USDDebits, error) {
	byCurrency := map[string]USDDebits{}
	all := usdDebits(0, 0, 0, 0)
	for _, r := range rows {
		t, ok := byCurrency[r.Currency]
		if !ok {
			t = usdDebits(0, 0, 0, 0)
		}
		var err error
		if byCurrency[r.Currency], err = t.plus(r.USDDebits, "payouts in "+r.Currency); err != nil {
			return nil, USDDebits{}, err
		}
		if all, err = all.plus(r.USDDebits, "payouts in every currency"); err != nil {
			return nil, USDDebits{}, err
		}
	}
	out := make([]CurrencyDebits, 0, len(byCurrency))
	for c, t := range byCurrency {
		out = append(out, CurrencyDebits{Currency: c, USDDebits: t})
	}
	slices.SortFunc(out, func(a, b CurrencyDebits) int { return cmp.Compare(a.Currency, b.Currency) })
	return out, all, nil
}

// buildFindings lists the oldest MaxListedFindings unresolved findings and
// counts them all. When they all fit in the list, the counts are taken
// from it rather than asked of the database twice, so that they always
// match the list (SQLite reads outside a transaction).
func buildFindings(ctx context.Context, st *models.Store, s *Summary, _, _ time.Time) error {
	fs, err := st.FindingListUnresolved(ctx, MaxListedFindings+1)
	if err != nil {
		return err
	}
	counts := map[[2]string]int64{}
	if len(fs) > MaxListedFindings {
		fs = fs[:MaxListedFindings]
		s.Findings.ListTruncated = true
		all, err := st.FindingCountOpenByKindSeverity(ctx)
		if err != nil {
			return err
		}
		for _, c := range all {
			counts[[2]string{string(c.Kind), string(c.Severity)}] = c.N
		}
	}
	s.Findings.List = make([]Finding, len(fs))
	for i, f := range fs {
		s.Findings.List[i] = Finding{
			ID: f.ID, Kind: string(f.Kind), Severity: string(f.Severity), Status: string(f.Status), Subject: f.Subject,
			PayoutID: f.PayoutID, UserID: f.UserID, FirstSeenAt: f.FirstSeenAt.UTC(), LastSeenAt: f.LastSeenAt.UTC(),
			Details: f.Details,
		}
		if !s.Findings.ListTruncated {
			counts[[2]string{string(f.Kind), string(f.Severity)}]++
		}
	}
	s.Findings.Counts = make([]FindingCount, 0, len(counts))
	for k, n := range counts {
		s.Findings.Counts = append(s.Findings.Counts, FindingCount{Kind: k[0], Severity: k[1], Count: n})
	}
	slices.SortFunc(s.Findings.Counts, func(a, b FindingCount) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Severity, b.Severity))
	})
	for _, c := range s.Findings.Counts {
		s.Findings.Total += c.Count
	}
	return nil
}

// total sums, per currency, the amounts of the rows pick keeps, sorted by
// currency. Amounts of different currencies are never added together; a
// total that does not fit in an int64 is models.ErrOverflow, naming what.
func total[R any](what string, rows []R, pick func(R) (Amount, bool)) ([]Amount, error) {
	byCurrency := map[string]*Amount{}
	for _, r := range rows {
		a, ok := pick(r)
		if !ok {
			continue
		}
		t := byCurrency[a.Currency]
		if t == nil {
			t = &Amount{Currency: a.Currency}
			byCurrency[a.Currency] = t
		}
		t.Count += a.Count
		cents, err := models.AddCents(t.Cents, a.Cents)
		if err != nil {
			return nil, fmt.Errorf("total of %s in %s %w", what, a.Currency, err)
		}
		t.Cents = cents
	}
	out := make([]Amount, 0, len(byCurrency))
	for _, t := range byCurrency {
		out = append(out, amount(t.Currency, t.Count, t.Cents))
	}
	slices.SortFunc(out, func(a, b Amount) int { return cmp.Compare(a.Currency, b.Currency) })
	return out, nil
}
