package models

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"
)

// WalletSnapshot is the Coinflow wallet balance seen by a run.
type WalletSnapshot struct {
	ID           int64 `gorm:"primaryKey;autoIncrement"`
	RunID        string
	TakenAt      time.Time
	BalanceCents int64
}

// WalletSnapshotAdd records a balance read at takenAt.
func (s *Store) WalletSnapshotAdd(ctx context.Context, runID string, takenAt time.Time, cents int64) (*WalletSnapshot, error) {
	w := &WalletSnapshot{RunID: runID, TakenAt: SnapshotTime(takenAt), BalanceCents: cents}
	if err := s.db.WithContext(ctx).Create(w).Error; err != nil {
		return nil, fmt.Errorf("record wallet snapshot: %w", translate(err))
	}
	return w, nil
}

// WalletSnapshotLatestBefore returns the newest snapshot taken before t.
func (s *Store) WalletSnapshotLatestBefore(ctx context.Context, t time.Time) (*WalletSnapshot, error) {
	return first[WalletSnapshot](s.db.WithContext(ctx).Where("taken_at < ?", t.UTC()).Order("taken_at DESC, id DESC"), "latest wallet snapshot")
}

// WalletSnapshotList lists snapshots taken in [from, to), oldest first.
func (s *Store) WalletSnapshotList(ctx context.Context, from, to time.Time) ([]WalletSnapshot, error) {
	var ws []WalletSnapshot
	if err := s.db.WithContext(ctx).Where("taken_at >= ? AND taken_at < ?", from.UTC(), to.UTC()).Order("taken_at, id").Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("list wallet snapshots: %w", translate(err))
	}
	return ws, nil
}

// WalletCurrency is the Coinflow wallet's currency. Payouts are in their
// destination's currency (USD, EUR, GBP, BRL); everything about the wallet
// (low balance, drift, the report's debits) is in USD.
const WalletCurrency = "USD"

// SnapshotTime is the time a snapshot taken at t is stored with: UTC, to
// the microsecond both databases keep.
func SnapshotTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// USD cost of a payout. What a payout costs the wallet is, for
//
//   - a USD payout: its amount plus its merchant fees (a USD payout's fees
//     are USD). Coinflow's wallet debit for it, when given, is by
//     definition the same sum and is not read: a USD payout costs its
//     amount and fees whether Coinflow priced it or not.
//   - a foreign payout (EUR, GBP, BRL): wallet_debit_cents, which already
//     holds its merchant fees. Until Coinflow priced it the column is NULL
//     and the payout is unpriced: its cost is unknown, never taken as 0.
//     Every sum counts unpriced payouts apart, for its caller to decide.
//
// usdCost selects the cost of payout p in three columns, one kind of cents
// each, which sums add apart (sum.go: no query adds two columns row by
// row): usd_amount and usd_fees (0 for a foreign payout), and foreign_debit
// (0 for a USD payout, NULL for an unpriced one).
const usdCost = `CASE WHEN p.amount_currency = '` + WalletCurrency + `' THEN p.amount_cents ELSE 0 END AS usd_amount,
       CASE WHEN p.amount_currency = '` + WalletCurrency + `' THEN p.merchant_fees_cents ELSE 0 END AS usd_fees,
       CASE WHEN p.amount_currency = '` + WalletCurrency + `' THEN 0 ELSE p.wallet_debit_cents END AS foreign_debit`

// usdCostSums sums usdCost's columns over the rows for which the SQL
// condition when holds (every row when ""), as four columns for
// USDCost.scan: the three sums and the number of unpriced payouts.
func usdCostSums(when string) string {
	of := func(col string) string {
		if when == "" {
			return col
		}
		return "CASE WHEN " + when + " THEN " + col + " END"
	}
	return "COALESCE(SUM(" + of("usd_amount") + "), 0), COALESCE(SUM(" + of("usd_fees") + "), 0), " +
		"COALESCE(SUM(" + of("foreign_debit") + "), 0), COUNT(" + of("1") + ") - COUNT(" + of("foreign_debit") + ")"
}

// USDCost is what some payouts cost the USD wallet (see usdCost), kept
// apart by kind.
type USDCost struct {
	AmountCents  int64 // amounts of the USD payouts
	FeesCents    int64 // merchant fees of the USD payouts
	ForeignCents int64 // wallet debits of the priced foreign payouts, their merchant fees included
	Unpriced     int64 // foreign payouts not yet priced: their cost is in no field above
}

// scan is the destinations of usdCostSums' four columns.
func (c *USDCost) scan() []any {
	return []any{intoCents{&c.AmountCents}, intoCents{&c.FeesCents}, intoCents{&c.ForeignCents}, &c.Unpriced}
}

// Cents is the known cost: amounts, fees and foreign debits. ErrOverflow,
// named after what, when it does not fit in an int64.
func (c USDCost) Cents(what string) (int64, error) {
	n, err := AddCents(c.AmountCents, c.FeesCents)
	if err == nil {
		n, err = AddCents(n, c.ForeignCents)
	}
	if err != nil {
		return 0, overflow(what)
	}
	return n, nil
}

// Plus is c+o, ErrOverflow naming the sum that does not fit.
func (c USDCost) Plus(o USDCost) (USDCost, error) {
	var err error
	if c.AmountCents, err = AddCents(c.AmountCents, o.AmountCents); err != nil {
		return c, overflow("payout amounts")
	}
	if c.FeesCents, err = AddCents(c.FeesCents, o.FeesCents); err != nil {
		return c, overflow("merchant fees")
	}
	if c.ForeignCents, err = AddCents(c.ForeignCents, o.ForeignCents); err != nil {
		return c, overflow("wallet debits of foreign payouts")
	}
	c.Unpriced += o.Unpriced
	return c, nil
}

// WalletMovement is what local payouts say moved through the USD wallet in
// an interval: debits for payouts made (USD payouts by amount and merchant
// fees, foreign payouts by their wallet debit), credits for failures
// refunded and returns completed.
type WalletMovement struct {
	PayoutsCents  int64 // amounts of USD payouts that reached Coinflow
	FeesCents     int64 // merchant fees of those USD payouts
	ForeignCents  int64 // wallet debits (USD, fees included) of foreign payouts that reached Coinflow
	RefundedCents int64 // USD cost of failed payouts whose funds came back (failures and returns)
	// Unpriced counts the foreign payouts debited or refunded in the
	// interval whose USD cost is not known yet: they are in no field above,
	// so while it is not 0 the movement does not explain the interval.
	Unpriced int64
}

// movementOf is the movement of payouts debited and credited.
func movementOf(debited, credited USDCost) (WalletMovement, error) {
	refunded, err := credited.Cents("refunded amounts and fees")
	if err != nil {
		return WalletMovement{}, err
	}
	return WalletMovement{
		PayoutsCents: debited.AmountCents, FeesCents: debited.FeesCents, ForeignCents: debited.ForeignCents,
		RefundedCents: refunded, Unpriced: debited.Unpriced + credited.Unpriced,
	}, nil
}

// Explained is the balance change the movement accounts for: refunds in,
// payouts and their fees out. ErrOverflow when it does not fit in an int64.
// It leaves out the unpriced payouts, whose cost is unknown.
func (m WalletMovement) Explained() (int64, error) {
	out, err := USDCost{AmountCents: m.PayoutsCents, FeesCents: m.FeesCents, ForeignCents: m.ForeignCents}.
		Cents("payout amounts and fees debited")
	if err != nil {
		return 0, err
	}
	net, err := SubCents(m.RefundedCents, out)
	if err != nil {
		return 0, overflow("wallet movements")
	}
	return net, nil
}

// Plus is m+o, field by field; ErrOverflow naming the sum that does not
// fit.
func (m WalletMovement) Plus(o WalletMovement) (WalletMovement, error) {
	var err error
	if m.PayoutsCents, err = AddCents(m.PayoutsCents, o.PayoutsCents); err != nil {
		return m, overflow("payout amounts debited")
	}
	if m.FeesCents, err = AddCents(m.FeesCents, o.FeesCents); err != nil {
		return m, overflow("merchant fees debited")
	}
	if m.ForeignCents, err = AddCents(m.ForeignCents, o.ForeignCents); err != nil {
		return m, overflow("wallet debits of foreign payouts")
	}
	if m.RefundedCents, err = AddCents(m.RefundedCents, o.RefundedCents); err != nil {
		return m, overflow("refunded amounts and fees")
	}
	m.Unpriced += o.Unpriced
	return m, nil
}

// fundsCameBack is the SQL condition on a payouts row that its funds came
// back to the wallet: failed, with its return completed.
const fundsCameBack = `status = 'failed' AND return_status = '` + ReturnStatusCompleted + `'`

// walletDebits and walletCredits are the local evidence of wallet
// movement, one row per payout with the time it moved the wallet
// (moved_at) and its USD cost (usdCost), for WalletMovementBetween and
// WalletMovementPerStep to sum.
const (
	walletDebits = `SELECT p.created_at AS moved_at, ` + usdCost + `
FROM payouts p
WHERE p.coinflow_transaction IS NOT NULL`
	walletCredits = `SELECT COALESCE(p.returned_at, (SELECT MAX(h.created_at) FROM payout_history h
         WHERE h.payout_id = p.id AND h.applied AND h.to_status = 'failed')) AS moved_at, ` + usdCost + `
FROM payouts p
WHERE p.coinflow_transaction IS NOT NULL AND ` + fundsCameBack
)

// WalletMovementBetween sums local evidence of wallet movement in (from, to].
// A payout that reached Coinflow is debited its USD cost at its creation:
// payoutd records a payout just before calling Coinflow, and a discovered
// payout carries Coinflow's creation time. A failed payout whose funds came
// back is credited the same cost at its return time (returned_at), or at
// its failure when Coinflow gave none. A foreign payout not yet priced is
// counted in Unpriced instead.
func (s *Store) WalletMovementBetween(ctx context.Context, from, to time.Time) (WalletMovement, error) {
	var debited, credited USDCost
	from, to = from.UTC(), to.UTC()
	for _, q := range []struct {
		what, query string
		into        *USDCost
	}{{"sum payouts debited", walletDebits, &debited}, {"sum payouts refunded", walletCredits, &credited}} {
		err := sumRow(ctx, s, "payout amounts and fees", `SELECT `+usdCostSums("")+` FROM (`+q.query+`) d
WHERE moved_at > ? AND moved_at <= ?`, []any{from, to}, q.into.scan()...)
		if err != nil {
			return WalletMovement{}, fmt.Errorf("%s: %w", q.what, err)
		}
	}
	m, err := movementOf(debited, credited)
	if err != nil {
		return WalletMovement{}, fmt.Errorf("sum payouts refunded: %w", err)
	}
	return m, nil
}

// WalletMovementPerStep is WalletMovementBetween for each step of a series of
// times, in two scans however long the series: out[i] is the movement in
// (times[i-1], times[i]], and out[0] is zero. times must be ascending. A
// report over a year of five-minute wallet snapshots makes one pass over
// the year's payouts instead of two queries per snapshot.
func (s *Store) WalletMovementPerStep(ctx context.Context, times []time.Time) ([]WalletMovement, error) {
	out := make([]WalletMovement, len(times))
	if len(times) < 2 {
		return out, nil
	}
	at := make([]time.Time, len(times))
	for i, t := range times {
		at[i] = t.UTC()
		if i > 0 && at[i].Before(at[i-1]) {
			return nil, fmt.Errorf("wallet movements: times not ascending at %d", i)
		}
	}
	perStep := s.costPerStepScan
	if s.dialect == DialectPostgres {
		perStep = s.costPerStepGrouped
	}
	debited, credited := make([]USDCost, len(times)), make([]USDCost, len(times))
	for _, q := range []struct {
		what, query string
		into        []USDCost
	}{{"sum payouts debited", walletDebits, debited}, {"sum payouts refunded", walletCredits, credited}} {
		if err := perStep(ctx, q.what, q.query, at, q.into); err != nil {
			return nil, err
		}
	}
	for i := range out {
		m, err := movementOf(debited[i], credited[i])
		if err != nil {
			return nil, fmt.Errorf("sum payouts refunded: %w", err)
		}
		out[i] = m
	}
	return out, nil
}

// costPerStepScan adds the USD cost of each row of query (walletDebits or
// walletCredits) moved in (at[0], at[last]] to into[i], i the step it
// moved in, reading the rows one by one: SQLite has no width_bucket.
func (s *Store) costPerStepScan(ctx context.Context, what, query string, at []time.Time, into []USDCost) error {
	// step is the i with at[i-1] < t <= at[i]. The query keeps t inside
	// (at[0], at[last]] as the database compares times; a time it compares
	// otherwise than Go does (SQLite compares stored text, exact only for
	// UTC) is an error, not a sum put in the wrong step.
	step := func(t time.Time) (int, error) {
		i := sort.Search(len(at), func(i int) bool { return !at[i].Before(t) })
		if i == 0 || i == len(at) {
			return 0, fmt.Errorf("wallet movements: %s is outside (%s, %s]", t, at[0], at[len(at)-1])
		}
		return i, nil
	}
	return s.eachMoved(ctx, what, `SELECT moved_at, usd_amount, usd_fees, foreign_debit FROM (`+query+`) d
WHERE moved_at > ? AND moved_at <= ?`, []any{at[0], at[len(at)-1]}, func(t time.Time, c USDCost) error {
		i, err := step(t)
		if err != nil {
			return err
		}
		into[i], err = into[i].Plus(c)
		return err
	})
}

// costPerStepGrouped is costPerStepScan with the steps summed by
// PostgreSQL, which returns a row per step instead of one per payout (a
// month's report read every payout of the month back otherwise).
// width_bucket(x, at) counts the times at or before x; PostgreSQL keeps
// microseconds, so a row moved at t, in (at[i-1], at[i]], has x = t - 1µs
// at or after exactly the i times at[0]..at[i-1]. The times are sent to
// the microsecond, as every bound the store sends.
func (s *Store) costPerStepGrouped(ctx context.Context, what, query string, at []time.Time, into []USDCost) error {
	var list strings.Builder
	list.WriteByte('{')
	for i, t := range at {
		if i > 0 {
			list.WriteByte(',')
		}
		list.WriteString(t.Truncate(time.Microsecond).Format(time.RFC3339Nano))
	}
	list.WriteByte('}')
	type stepCost struct {
		step int
		cost USDCost
	}
	rows, err := sumRows(ctx, s, "payout amounts and fees", func(r *stepCost) []any {
		return append([]any{&r.step}, r.cost.scan()...)
	}, `SELECT width_bucket(moved_at - interval '1 microsecond', ?::timestamptz[]), `+usdCostSums("")+`
FROM (`+query+`) d
WHERE moved_at > ? AND moved_at <= ?
GROUP BY 1`, list.String(), at[0], at[len(at)-1])
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for _, r := range rows {
		if r.step < 1 || r.step >= len(at) {
			return fmt.Errorf("%s: step %d outside (%s, %s]", what, r.step, at[0], at[len(at)-1])
		}
		var err error
		if into[r.step], err = into[r.step].Plus(r.cost); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// eachMoved runs a query of (moved_at, usd_amount, usd_fees, foreign_debit)
// rows and calls fn with each row's time and USD cost; fn's error ends the
// scan.
func (s *Store) eachMoved(ctx context.Context, what, query string, args []any, fn func(time.Time, USDCost) error) error {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	defer rows.Close()
	var (
		t       dbTime
		c       USDCost
		foreign sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&t, &c.AmountCents, &c.FeesCents, &foreign); err != nil {
			return fmt.Errorf("%s: %w", what, translate(err))
		}
		c.ForeignCents, c.Unpriced = foreign.Int64, 0
		if !foreign.Valid {
			c.Unpriced = 1
		}
		if err := fn(t.Time, c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	return nil
}

// InFlight is what the payouts not yet settled (requested, unknown,
// pending, in review) will cost the USD wallet.
type InFlight struct {
	Cents int64 // USD cost of those whose cost is known (see usdCost)
	// Unpriced counts the foreign ones not yet priced. Their cost is not in
	// Cents, so Cents is then only a lower bound: a caller must not take it
	// for the whole (reconcile's low-balance check will not resolve on it).
	Unpriced int64
}

// PayoutSumUndebited is the USD cost of the payouts recorded here that
// Coinflow may not have debited from the wallet yet: requested, or unknown
// and without a transaction (Coinflow debits a payout when it accepts it,
// so an accepted one is already out of the balance). Initiation subtracts
// it from the balance before it pays another.
func (s *Store) PayoutSumUndebited(ctx context.Context) (InFlight, error) {
	var c USDCost
	err := sumRow(ctx, s, "payout amounts and fees", `SELECT `+usdCostSums("")+` FROM (SELECT `+usdCost+` FROM payouts p
WHERE p.status IN ('requested', 'unknown') AND p.coinflow_transaction IS NULL) d`, nil, c.scan()...)
	if err == nil {
		var n int64
		if n, err = c.Cents("payout amounts and fees"); err == nil {
			return InFlight{Cents: n, Unpriced: c.Unpriced}, nil
		}
	}
	return InFlight{}, fmt.Errorf("sum payouts not yet debited: %w", err)
}

// PayoutSumInFlight is the USD cost of the payouts not yet settled.
func (s *Store) PayoutSumInFlight(ctx context.Context) (InFlight, error) {
	var c USDCost
	err := sumRow(ctx, s, "payout amounts and fees", `SELECT `+usdCostSums("")+` FROM (SELECT `+usdCost+` FROM payouts p
WHERE p.status IN ('requested', 'unknown', 'pending', 'in_review')) d`, nil, c.scan()...)
	if err == nil {
		var n int64
		if n, err = c.Cents("payout amounts and fees"); err == nil {
			return InFlight{Cents: n, Unpriced: c.Unpriced}, nil
		}
	}
	return InFlight{}, fmt.Errorf("sum payouts in flight: %w", err)
}
