package models

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
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
// speed and currency: the dashboard's volume chart. (The finance report
// takes these rows from ReportGroups.)
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

// Fee payers of the report's fee rows.
const (
	FeePayerUser     = "user"
	FeePayerMerchant = "merchant"
)

// Speed classes of the report's speed rows.
const (
	SpeedAsRequested    = "as_requested"
	SpeedNACHADowngrade = "nacha_downgrade" // same_day above the NACHA limit, paid standard
	SpeedOtherDowngrade = "other_downgrade"
)

// Return statuses of a failed payout whose funds come back.
const (
	ReturnStatusPending   = "pending_return"
	ReturnStatusCompleted = "return_completed"
)

// ReportSum is a number of payouts and a sum of cents over them.
type ReportSum struct {
	Count int64
	Cents int64
}

// ReportGroup is the payouts created in a report's range that share a UTC
// day, a status, speeds, a return status, currencies and whether they
// reached Coinflow: every figure the report gives about the range is a sum
// over such groups (package report rolls them up).
type ReportGroup struct {
	Day                  string  // UTC date of created_at, YYYY-MM-DD
	Status               string  // status now
	RequestedSpeed       *string // nil when NULL
	EffectiveSpeed       *string // nil when NULL
	ReturnStatus         *string // nil when NULL
	Currency             string  // amount_currency
	UserFeesCurrency     string
	MerchantFeesCurrency string
	Reached              bool // coinflow_transaction set: Coinflow has it, and debited the wallet for it
	// AboveNACHALimit says the amounts are above the limit ReportGroups was
	// given: with the speeds and currency, what tells a NACHA downgrade.
	AboveNACHALimit bool
	Count           int64
	Cents           int64 // amounts
	// UserFees and MerchantFees count the payouts whose fee is not 0 and
	// sum the fees.
	UserFees, MerchantFees ReportSum
	// WalletDebit counts the payouts whose wallet_debit_cents is set (what
	// a foreign payout cost the USD wallet) and sums it.
	WalletDebit ReportSum
}

// groupColumns are what ReportGroups groups by, in its subquery's names.
const groupColumns = `day, status, requested_speed, effective_speed, return_status, amount_currency,
         user_fees_currency, merchant_fees_currency, reached, above`

// ReportGroups groups the payouts created in [from, to) in one pass over
// them: one GROUP BY, whose conditional counts give what a group's keys
// cannot (the fees that are not 0). Before it, the report ran a query per
// section, each scanning the range again and sorting its groups. Amounts
// above nachaLimitCents are grouped apart: the key costs less than
// counting and summing NACHA downgrades apart in every group.
//
// On PostgreSQL the day is grouped as a date and formatted per group, not
// per row; migration 008's statistics on that expression and the other
// keys let the planner see that the groups are few, so it hashes them,
// in parallel workers when it can, instead of sorting the range.
func (s *Store) ReportGroups(ctx context.Context, from, to time.Time, nachaLimitCents int64) ([]ReportGroup, error) {
	dayKey, dayText := "strftime('%Y-%m-%d', created_at)", "day"
	if s.dialect == DialectPostgres {
		dayKey, dayText = "(created_at AT TIME ZONE 'UTC')::date", "to_char(day, 'YYYY-MM-DD')"
	}
	rows, err := sumRows(ctx, s, "payout amounts, fees or wallet debits", func(g *ReportGroup) []any {
		return []any{
			&g.Day, &g.Status, &g.RequestedSpeed, &g.EffectiveSpeed, &g.ReturnStatus, &g.Currency,
			&g.UserFeesCurrency, &g.MerchantFeesCurrency, &g.Reached, &g.AboveNACHALimit,
			&g.Count, intoCents{&g.Cents}, &g.UserFees.Count, intoCents{&g.UserFees.Cents},
			&g.MerchantFees.Count, intoCents{&g.MerchantFees.Cents}, &g.WalletDebit.Count, intoCents{&g.WalletDebit.Cents},
		}
	}, `
SELECT `+dayText+`, status, requested_speed, effective_speed, return_status, amount_currency,
       user_fees_currency, merchant_fees_currency, reached, above,
       COUNT(*), SUM(amount_cents),
       COUNT(CASE WHEN user_fees_cents <> 0 THEN 1 END), SUM(user_fees_cents),
       COUNT(CASE WHEN merchant_fees_cents <> 0 THEN 1 END), SUM(merchant_fees_cents),
       COUNT(wallet_debit_cents), SUM(wallet_debit_cents)
FROM (SELECT `+dayKey+` AS day, status, requested_speed, effective_speed, return_status, amount_currency,
             user_fees_currency, merchant_fees_currency, coinflow_transaction IS NOT NULL AS reached,
             amount_cents > ? AS above, amount_cents, user_fees_cents, merchant_fees_cents, wallet_debit_cents
      FROM payouts
      WHERE created_at >= ? AND created_at < ?) p
GROUP BY `+groupColumns,
		nachaLimitCents, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("report payouts: %w", err)
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
