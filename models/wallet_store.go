package models

import (
	"context"
	"fmt"
	"sort"
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
	w := &WalletSnapshot{RunID: runID, TakenAt: takenAt.UTC().Truncate(time.Microsecond), BalanceCents: cents}
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

// WalletMovement is what local payouts say moved through the wallet in an
// interval: debits for payouts made (amount and merchant fees), credits for
// failures refunded and returns completed.
type WalletMovement struct {
	PayoutsCents  int64 // amounts of payouts that reached Coinflow
	FeesCents     int64 // merchant fees of those payouts
	RefundedCents int64 // amount + merchant fee of failed payouts whose funds came back (failures and returns)
}

// Explained is the balance change the movement accounts for: refunds in,
// payouts and their fees out. ErrOverflow when it does not fit in an int64.
func (m WalletMovement) Explained() (int64, error) {
	out, err := AddCents(m.PayoutsCents, m.FeesCents)
	if err != nil {
		return 0, overflow("payout amounts and fees debited")
	}
	net, err := SubCents(m.RefundedCents, out)
	if err != nil {
		return 0, overflow("wallet movements")
	}
	return net, nil
}

// add adds o to m, ErrOverflow naming the sum that does not fit.
func (m *WalletMovement) add(o WalletMovement) error {
	var err error
	if m.PayoutsCents, err = AddCents(m.PayoutsCents, o.PayoutsCents); err != nil {
		return overflow("payout amounts debited")
	}
	if m.FeesCents, err = AddCents(m.FeesCents, o.FeesCents); err != nil {
		return overflow("merchant fees debited")
	}
	if m.RefundedCents, err = AddCents(m.RefundedCents, o.RefundedCents); err != nil {
		return overflow("refunded amounts and fees")
	}
	return nil
}

// walletDebits and walletCredits are the local evidence of wallet
// movement, one row per payout with the time it moved the wallet
// (moved_at), its amount and its merchant fee, for WalletMovementBetween and
// WalletMovementPerStep to sum. A credit is amount plus fee, added in Go
// (see sum.go).
const (
	walletDebits = `SELECT created_at AS moved_at, amount_cents AS amount, merchant_fees_cents AS fees FROM payouts
WHERE amount_currency = 'USD' AND coinflow_transaction IS NOT NULL`
	walletCredits = `SELECT COALESCE(p.returned_at, (SELECT MAX(h.created_at) FROM payout_history h
         WHERE h.payout_id = p.id AND h.applied AND h.to_status = 'failed')) AS moved_at,
       p.amount_cents AS amount, p.merchant_fees_cents AS fees
FROM payouts p
WHERE p.amount_currency = 'USD' AND p.status = 'failed' AND p.coinflow_transaction IS NOT NULL
  AND p.return_status = 'return_completed'`
)

// WalletMovementBetween sums local evidence of wallet movement in (from, to].
// A payout that reached Coinflow is debited (amount and merchant fee) at its
// creation: payoutd records a payout just before calling Coinflow, and a
// discovered payout carries Coinflow's creation time. A failed payout whose
// funds came back is credited at its return time (returned_at), or at its
// failure when Coinflow gave none. Amounts are the wallet's currency, USD.
func (s *Store) WalletMovementBetween(ctx context.Context, from, to time.Time) (WalletMovement, error) {
	var m WalletMovement
	from, to = from.UTC(), to.UTC()
	err := sumRow(ctx, s, "payout amounts and fees", `SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(fees), 0) FROM (`+walletDebits+`) d
WHERE moved_at > ? AND moved_at <= ?`, []any{from, to}, intoCents{&m.PayoutsCents}, intoCents{&m.FeesCents})
	if err != nil {
		return WalletMovement{}, fmt.Errorf("sum payouts debited: %w", err)
	}
	var amount, fees int64
	err = sumRow(ctx, s, "refunded amounts and fees", `SELECT COALESCE(SUM(amount), 0), COALESCE(SUM(fees), 0) FROM (`+walletCredits+`) c
WHERE moved_at > ? AND moved_at <= ?`, []any{from, to}, intoCents{&amount}, intoCents{&fees})
	if err != nil {
		return WalletMovement{}, fmt.Errorf("sum payouts refunded: %w", err)
	}
	if m.RefundedCents, err = AddCents(amount, fees); err != nil {
		return WalletMovement{}, fmt.Errorf("sum payouts refunded: %w", overflow("refunded amounts and fees"))
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
	// step is the i with at[i-1] < t <= at[i]. The queries keep t inside
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
	first, last := at[0], at[len(at)-1]
	err := s.eachTimedCents(ctx, "sum payouts debited",
		`SELECT moved_at, amount, fees FROM (`+walletDebits+`) d WHERE moved_at > ? AND moved_at <= ?`,
		[]any{first, last}, func(t time.Time, amount, fees int64) error {
			i, err := step(t)
			if err != nil {
				return err
			}
			return out[i].add(WalletMovement{PayoutsCents: amount, FeesCents: fees})
		})
	if err != nil {
		return nil, err
	}
	err = s.eachTimedCents(ctx, "sum payouts refunded",
		`SELECT moved_at, amount, fees FROM (`+walletCredits+`) c WHERE moved_at > ? AND moved_at <= ?`,
		[]any{first, last}, func(t time.Time, amount, fees int64) error {
			i, err := step(t)
			if err != nil {
				return err
			}
			refunded, err := AddCents(amount, fees)
			if err != nil {
				return overflow("refunded amounts and fees")
			}
			return out[i].add(WalletMovement{RefundedCents: refunded})
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachTimedCents runs a query of (time, cents, cents) rows and calls fn
// for each; fn's error ends the scan.
func (s *Store) eachTimedCents(ctx context.Context, what, query string, args []any, fn func(time.Time, int64, int64) error) error {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	defer rows.Close()
	var (
		t    dbTime
		a, b int64
	)
	for rows.Next() {
		if err := rows.Scan(&t, &a, &b); err != nil {
			return fmt.Errorf("%s: %w", what, translate(err))
		}
		if err := fn(t.Time, a, b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, translate(err))
	}
	return nil
}

// PayoutSumInFlight is the amount plus merchant fees of payouts not yet
// settled (requested, unknown, pending, in review), in USD cents.
func (s *Store) PayoutSumInFlight(ctx context.Context) (int64, error) {
	var amount, fees int64
	err := sumRow(ctx, s, "payout amounts and fees", `SELECT COALESCE(SUM(amount_cents), 0), COALESCE(SUM(merchant_fees_cents), 0) FROM payouts
WHERE amount_currency = 'USD' AND status IN ('requested', 'unknown', 'pending', 'in_review')`, nil, intoCents{&amount}, intoCents{&fees})
	if err != nil {
		return 0, fmt.Errorf("sum payouts in flight: %w", err)
	}
	n, err := AddCents(amount, fees)
	if err != nil {
		return 0, fmt.Errorf("sum payouts in flight: %w", overflow("payout amounts and fees"))
	}
	return n, nil
}
