package models

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/payoutd/payoutd/rail"
)

// The queries behind package report. Every one groups in the database and
// returns exact integer cents per currency; none adds two currencies. Payout
// queries select the payouts created in [from, to). A group whose sum does
// not fit in an int64 is ErrOverflow (see sum.go).

// ReportRead runs fn against one consistent view of the database, so that
// the sections of a report agree with each other. On PostgreSQL that is a
// read-only REPEATABLE READ transaction (or the transaction s is already
// in). SQLite runs fn outside a transaction: its one connection is shared
// with the webhook committer, and a transaction (BEGIN IMMEDIATE, see
// sqliteDSN) would stop every webhook commit for as long as the report
// takes.
func (s *Store) ReportRead(ctx context.Context, fn func(*Store) error) error {
	if s.dialect != DialectPostgres || s.inTx {
		return fn(s)
	}
	return s.transaction(ctx, fn, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// dayOf is the SQL for the UTC date (YYYY-MM-DD) of a timestamp column.
// SQLite stores times as text with their offset, which strftime converts to
// UTC.
func (s *Store) dayOf(col string) string {
	if s.dialect == DialectPostgres {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "strftime('%Y-%m-%d', " + col + ")"
}

// ReportPayoutRow is the payouts of one day, status, speed and currency.
type ReportPayoutRow struct {
	Day      string // UTC date of created_at
	Status   string
	Speed    string // effective speed, else requested, else ""
	Currency string
	Count    int64
	Cents    int64
}

// ReportPayouts groups the payouts created in [from, to) by day, status,
// speed and currency.
func (s *Store) ReportPayouts(ctx context.Context, from, to time.Time) ([]ReportPayoutRow, error) {
	rows, err := sumRows(ctx, s, "payout amounts", func(r *ReportPayoutRow) []any {
		return []any{&r.Day, &r.Status, &r.Speed, &r.Currency, &r.Count, intoCents{&r.Cents}}
	}, `
SELECT `+s.dayOf("created_at")+` AS day, status, COALESCE(effective_speed, requested_speed, '') AS speed,
       amount_currency AS currency, COUNT(*) AS count, SUM(amount_cents) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ?
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("report payouts: %w", err)
	}
	return rows, nil
}

// Fee payers in ReportFeeRow.
const (
	FeePayerUser     = "user"
	FeePayerMerchant = "merchant"
)

// ReportFeeRow is the fees one payer paid on one day in one currency.
type ReportFeeRow struct {
	Day      string
	Payer    string // FeePayerUser or FeePayerMerchant
	Currency string
	Count    int64 // payouts that carried a fee
	Cents    int64
}

// ReportFees sums the user and merchant fees of the payouts created in
// [from, to) by day and currency. Failed payouts are left out: their fees
// are not earned (Coinflow gives the merchant fee back with the amount).
func (s *Store) ReportFees(ctx context.Context, from, to time.Time) ([]ReportFeeRow, error) {
	day := s.dayOf("created_at")
	rows, err := sumRows(ctx, s, "fees", func(r *ReportFeeRow) []any {
		return []any{&r.Day, &r.Payer, &r.Currency, &r.Count, intoCents{&r.Cents}}
	}, `
SELECT `+day+` AS day, 'user' AS payer, user_fees_currency AS currency,
       COUNT(*) AS count, SUM(user_fees_cents) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND status <> 'failed' AND user_fees_cents <> 0
GROUP BY 1, 3
UNION ALL
SELECT `+day+` AS day, 'merchant' AS payer, merchant_fees_currency AS currency,
       COUNT(*) AS count, SUM(merchant_fees_cents) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND status <> 'failed' AND merchant_fees_cents <> 0
GROUP BY 1, 3
ORDER BY 1, 2, 3`, from.UTC(), to.UTC(), from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("report fees: %w", err)
	}
	return rows, nil
}

// Speed classes in ReportSpeedRow.
const (
	SpeedAsRequested    = "as_requested"
	SpeedNACHADowngrade = "nacha_downgrade" // same_day above the NACHA limit, paid standard
	SpeedOtherDowngrade = "other_downgrade"
)

// ReportSpeedRow is the payouts of one requested and effective speed pair.
type ReportSpeedRow struct {
	RequestedSpeed string
	EffectiveSpeed string
	Class          string
	Currency       string
	Count          int64
	Cents          int64
}

// ReportSpeeds groups the payouts created in [from, to) whose requested and
// effective speeds are both known by the pair and currency. A payout is a
// NACHA downgrade when it asked for same_day, went standard, and is a USD
// amount above nachaLimitCents (rail.NACHADowngrade, the rule reconcile's
// speed check applies); any other difference is another downgrade.
func (s *Store) ReportSpeeds(ctx context.Context, from, to time.Time, nachaLimitCents int64) ([]ReportSpeedRow, error) {
	rows, err := sumRows(ctx, s, "payout amounts", func(r *ReportSpeedRow) []any {
		return []any{&r.RequestedSpeed, &r.EffectiveSpeed, &r.Class, &r.Currency, &r.Count, intoCents{&r.Cents}}
	}, `
SELECT requested_speed, effective_speed,
       CASE WHEN requested_speed = effective_speed THEN '`+SpeedAsRequested+`'
            WHEN requested_speed = ? AND effective_speed = ?
                 AND amount_currency = ? AND amount_cents > ? THEN '`+SpeedNACHADowngrade+`'
            ELSE '`+SpeedOtherDowngrade+`' END AS class,
       amount_currency AS currency, COUNT(*) AS count, SUM(amount_cents) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND requested_speed IS NOT NULL AND effective_speed IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY 3, 1, 2, 4`, rail.SameDay, rail.Standard, rail.NACHACurrency, nachaLimitCents, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("report speeds: %w", err)
	}
	return rows, nil
}

// Return statuses of a failed payout whose funds come back.
const (
	ReturnStatusPending   = "pending_return"
	ReturnStatusCompleted = "return_completed"
)

// ReportFailureRow is the failed or returned payouts of one status, return
// status and currency.
type ReportFailureRow struct {
	Status       string
	ReturnStatus string // "" when none
	Currency     string
	Count        int64
	Cents        int64
}

// ReportFailures groups the payouts created in [from, to) that failed or
// are being returned by status, return status and currency.
func (s *Store) ReportFailures(ctx context.Context, from, to time.Time) ([]ReportFailureRow, error) {
	rows, err := sumRows(ctx, s, "payout amounts", func(r *ReportFailureRow) []any {
		return []any{&r.Status, &r.ReturnStatus, &r.Currency, &r.Count, intoCents{&r.Cents}}
	}, `
SELECT status, COALESCE(return_status, '') AS return_status, amount_currency AS currency,
       COUNT(*) AS count, SUM(amount_cents) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND (status = 'failed' OR return_status IN (?, ?))
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3`, from.UTC(), to.UTC(), ReturnStatusPending, ReturnStatusCompleted)
	if err != nil {
		return nil, fmt.Errorf("report failures: %w", err)
	}
	return rows, nil
}

// Aging kinds in ReportAgingRow.
const (
	AgingStuck     = "stuck"     // an unresolved stuck_payout finding
	AgingUnclaimed = "unclaimed" // status detail unclaimed
)

// ReportAgingRow is the waiting payouts of one kind, age bucket and currency.
type ReportAgingRow struct {
	Kind     string // AgingStuck or AgingUnclaimed
	Bucket   int    // index into the cutoffs given to ReportAging
	Currency string
	Count    int64
	Cents    int64
}

// ReportAging groups the payouts waiting now, whenever they were created:
// those with an unresolved stuck_payout finding and those unclaimed. A
// payout falls in bucket i for the first cutoff it was created after, and
// in bucket len(cutoffs) when it is older than them all; cutoffs go from
// newest to oldest.
func (s *Store) ReportAging(ctx context.Context, cutoffs []time.Time) ([]ReportAgingRow, error) {
	var bucket strings.Builder
	cuts := make([]any, len(cutoffs))
	bucket.WriteString("CASE")
	for i, c := range cutoffs {
		fmt.Fprintf(&bucket, " WHEN created_at > ? THEN %d", i)
		cuts[i] = c.UTC()
	}
	fmt.Fprintf(&bucket, " ELSE %d END", len(cutoffs))
	b := bucket.String()
	args := slices.Concat(cuts, []any{KindStuckPayout}, cuts, []any{DetailUnclaimed})
	rows, err := sumRows(ctx, s, "payout amounts", func(r *ReportAgingRow) []any {
		return []any{&r.Kind, &r.Bucket, &r.Currency, &r.Count, intoCents{&r.Cents}}
	}, `
SELECT '`+AgingStuck+`' AS kind, `+b+` AS bucket, amount_currency AS currency,
       COUNT(*) AS count, SUM(amount_cents) AS cents
FROM payouts
WHERE id IN (SELECT payout_id FROM findings WHERE kind = ? AND resolved_at IS NULL AND payout_id IS NOT NULL)
GROUP BY 2, 3
UNION ALL
SELECT '`+AgingUnclaimed+`' AS kind, `+b+` AS bucket, amount_currency AS currency,
       COUNT(*) AS count, SUM(amount_cents) AS cents
FROM payouts
WHERE status_detail = ?
GROUP BY 2, 3
ORDER BY 1, 2, 3`, args...)
	if err != nil {
		return nil, fmt.Errorf("report aging: %w", err)
	}
	return rows, nil
}

// ReportWalletDebitRow is what the payouts of one day and currency that
// reached Coinflow cost the USD wallet (see usdCost): Debited for all of
// them, Refunded for those whose funds came back. The payouts' currency is
// Currency; the cents are USD.
type ReportWalletDebitRow struct {
	Day      string // UTC date of created_at
	Currency string // the payouts' currency
	Count    int64  // payouts that reached Coinflow
	Debited  USDCost
	Refunded USDCost
}

// ReportWalletDebits groups the payouts created in [from, to) that reached
// Coinflow (coinflow_transaction set) by day and currency, with their USD
// cost. A foreign payout not yet priced is counted in Debited.Unpriced
// (and, refunded, in Refunded.Unpriced), never summed as 0.
func (s *Store) ReportWalletDebits(ctx context.Context, from, to time.Time) ([]ReportWalletDebitRow, error) {
	rows, err := sumRows(ctx, s, "wallet debits", func(r *ReportWalletDebitRow) []any {
		return append(append([]any{&r.Day, &r.Currency, &r.Count}, r.Debited.scan()...), r.Refunded.scan()...)
	}, `
SELECT day, currency, COUNT(*) AS count, `+usdCostSums("")+`, `+usdCostSums("refunded = 1")+`
FROM (SELECT `+s.dayOf("p.created_at")+` AS day, p.amount_currency AS currency,
             CASE WHEN `+fundsCameBack+` THEN 1 ELSE 0 END AS refunded, `+usdCost+`
      FROM payouts p
      WHERE p.created_at >= ? AND p.created_at < ? AND p.coinflow_transaction IS NOT NULL) d
GROUP BY 1, 2
ORDER BY 1, 2`, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("report wallet debits: %w", err)
	}
	return rows, nil
}
