package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/report"
)

// multiQuery is the report's sections about the range as the report built
// them before its one pass (commit 80afa1d): one query per section, each
// grouping in the database. It is the oracle the one pass is held to. Sums
// are cast to BIGINT: the test's amounts are far from overflowing.
type multiQuery struct {
	payouts  []report.PayoutRow
	fees     []report.FeeRow
	speeds   []report.SpeedRow
	failures []report.FailureRow
	debits   []report.WalletDebitRow
}

func amountOf(currency string, count, cents int64) report.Amount {
	return report.Amount{Currency: currency, Count: count, Cents: cents, Formatted: models.Money{Cents: cents, Currency: currency}.String()}
}

func moneyOf(cents int64) report.Money {
	return report.Money{Cents: cents, Currency: "USD", Formatted: models.Money{Cents: cents, Currency: "USD"}.String()}
}

func queryMultiQuery(ctx context.Context, t *testing.T, store *models.Store, from, to time.Time) multiQuery {
	t.Helper()
	dayOf := func(col string) string {
		if store.Dialect() == models.DialectPostgres {
			return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
		}
		return "strftime('%Y-%m-%d', " + col + ")"
	}
	each := func(query string, args []any, scan func(scan func(...any) error)) {
		t.Helper()
		rows, err := store.DB().WithContext(ctx).Raw(query, args...).Rows()
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			scan(rows.Scan)
		}
		require.NoError(t, rows.Err())
	}
	var mq multiQuery
	from, to = from.UTC(), to.UTC()
	each(`SELECT `+dayOf("created_at")+` AS day, status, COALESCE(effective_speed, requested_speed, '') AS speed,
       amount_currency AS currency, COUNT(*) AS count, CAST(SUM(amount_cents) AS BIGINT) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ?
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4`, []any{from, to}, func(scan func(...any) error) {
		var r report.PayoutRow
		require.NoError(t, scan(&r.Date, &r.Status, &r.Speed, &r.Currency, &r.Count, &r.Cents))
		r.Amount = amountOf(r.Currency, r.Count, r.Cents)
		mq.payouts = append(mq.payouts, r)
	})
	day := dayOf("created_at")
	each(`SELECT `+day+` AS day, 'user' AS payer, user_fees_currency AS currency,
       COUNT(*) AS count, CAST(SUM(user_fees_cents) AS BIGINT) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND status <> 'failed' AND user_fees_cents <> 0
GROUP BY 1, 3
UNION ALL
SELECT `+day+` AS day, 'merchant' AS payer, merchant_fees_currency AS currency,
       COUNT(*) AS count, CAST(SUM(merchant_fees_cents) AS BIGINT) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND status <> 'failed' AND merchant_fees_cents <> 0
GROUP BY 1, 3
ORDER BY 1, 2, 3`, []any{from, to, from, to}, func(scan func(...any) error) {
		var r report.FeeRow
		require.NoError(t, scan(&r.Date, &r.Payer, &r.Currency, &r.Count, &r.Cents))
		r.Amount = amountOf(r.Currency, r.Count, r.Cents)
		mq.fees = append(mq.fees, r)
	})
	each(`SELECT requested_speed, effective_speed,
       CASE WHEN requested_speed = effective_speed THEN 'as_requested'
            WHEN requested_speed = 'same_day' AND effective_speed = 'standard'
                 AND amount_currency = 'USD' AND amount_cents > 100000000 THEN 'nacha_downgrade'
            ELSE 'other_downgrade' END AS class,
       amount_currency AS currency, COUNT(*) AS count, CAST(SUM(amount_cents) AS BIGINT) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND requested_speed IS NOT NULL AND effective_speed IS NOT NULL
GROUP BY 1, 2, 3, 4
ORDER BY 3, 1, 2, 4`, []any{from, to}, func(scan func(...any) error) {
		var r report.SpeedRow
		require.NoError(t, scan(&r.RequestedSpeed, &r.EffectiveSpeed, &r.Class, &r.Currency, &r.Count, &r.Cents))
		r.Amount = amountOf(r.Currency, r.Count, r.Cents)
		mq.speeds = append(mq.speeds, r)
	})
	each(`SELECT status, COALESCE(return_status, '') AS return_status, amount_currency AS currency,
       COUNT(*) AS count, CAST(SUM(amount_cents) AS BIGINT) AS cents
FROM payouts
WHERE created_at >= ? AND created_at < ? AND (status = 'failed' OR return_status IN ('pending_return', 'return_completed'))
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3`, []any{from, to}, func(scan func(...any) error) {
		var r report.FailureRow
		require.NoError(t, scan(&r.Status, &r.ReturnStatus, &r.Currency, &r.Count, &r.Cents))
		r.Amount = amountOf(r.Currency, r.Count, r.Cents)
		mq.failures = append(mq.failures, r)
	})
	// The wallet's USD cost of each payout (usdCost then): a USD payout
	// its amount and merchant fees, a foreign one its wallet debit.
	costs := func(when string) string {
		of := func(col string) string {
			if when == "" {
				return col
			}
			return "CASE WHEN " + when + " THEN " + col + " END"
		}
		return "CAST(COALESCE(SUM(" + of("usd_amount") + "), 0) AS BIGINT), CAST(COALESCE(SUM(" + of("usd_fees") + "), 0) AS BIGINT), " +
			"CAST(COALESCE(SUM(" + of("foreign_debit") + "), 0) AS BIGINT), COUNT(" + of("1") + ") - COUNT(" + of("foreign_debit") + ")"
	}
	each(`SELECT day, currency, COUNT(*) AS count, `+costs("")+`, `+costs("refunded = 1")+`
FROM (SELECT `+dayOf("p.created_at")+` AS day, p.amount_currency AS currency,
             CASE WHEN status = 'failed' AND return_status = 'return_completed' THEN 1 ELSE 0 END AS refunded,
             CASE WHEN p.amount_currency = 'USD' THEN p.amount_cents ELSE 0 END AS usd_amount,
             CASE WHEN p.amount_currency = 'USD' THEN p.merchant_fees_cents ELSE 0 END AS usd_fees,
             CASE WHEN p.amount_currency = 'USD' THEN 0 ELSE p.wallet_debit_cents END AS foreign_debit
      FROM payouts p
      WHERE p.created_at >= ? AND p.created_at < ? AND p.coinflow_transaction IS NOT NULL) d
GROUP BY 1, 2
ORDER BY 1, 2`, []any{from, to}, func(scan func(...any) error) {
		var r report.WalletDebitRow
		var debited, refunded [3]int64
		var unpriced, refundedUnpriced int64
		require.NoError(t, scan(&r.Date, &r.Currency, &r.Count, &debited[0], &debited[1], &debited[2], &unpriced,
			&refunded[0], &refunded[1], &refunded[2], &refundedUnpriced))
		r.Unpriced = unpriced
		r.Debited = moneyOf(debited[0] + debited[1] + debited[2])
		r.Refunded = moneyOf(refunded[0] + refunded[1] + refunded[2])
		mq.debits = append(mq.debits, r)
	})
	return mq
}

// sortedBy requires rows to be in the order of keys' strings.
func sortedBy[R any](t *testing.T, what string, rows []R, key func(R) string) {
	t.Helper()
	for i := 1; i < len(rows); i++ {
		require.LessOrEqual(t, key(rows[i-1]), key(rows[i]), "%s rows %d and %d out of order", what, i-1, i)
	}
}

// requireSameAsMultiQuery holds the sections of s to the old queries' rows:
// the same rows, in an order that does not depend on the database's
// collation (the old queries sorted by it).
func requireSameAsMultiQuery(t *testing.T, s *report.Summary, mq multiQuery) {
	t.Helper()
	require.NoError(t, s.Check())
	require.ElementsMatch(t, mq.payouts, s.Payouts.Rows, "payouts")
	require.ElementsMatch(t, mq.fees, s.Fees.Rows, "fees")
	require.ElementsMatch(t, mq.speeds, s.Speeds.Rows, "speeds")
	require.ElementsMatch(t, mq.failures, s.Failures.Rows, "failures")
	require.ElementsMatch(t, mq.debits, s.WalletDebits.Rows, "wallet debits")
	sep := "\x00"
	sortedBy(t, "payouts", s.Payouts.Rows, func(r report.PayoutRow) string {
		return r.Date + sep + r.Status + sep + r.Speed + sep + r.Currency
	})
	sortedBy(t, "fees", s.Fees.Rows, func(r report.FeeRow) string { return r.Date + sep + r.Payer + sep + r.Currency })
	sortedBy(t, "speeds", s.Speeds.Rows, func(r report.SpeedRow) string {
		return r.Class + sep + r.RequestedSpeed + sep + r.EffectiveSpeed + sep + r.Currency
	})
	sortedBy(t, "failures", s.Failures.Rows, func(r report.FailureRow) string {
		return r.Status + sep + r.ReturnStatus + sep + r.Currency
	})
	sortedBy(t, "wallet debits", s.WalletDebits.Rows, func(r report.WalletDebitRow) string { return r.Date + sep + r.Currency })
	for name, n := range map[string]int{
		"payouts": len(s.Payouts.Rows), "fees": len(s.Fees.Rows), "speeds": len(s.Speeds.Rows),
		"failures": len(s.Failures.Rows), "wallet debits": len(s.WalletDebits.Rows),
	} {
		require.NotZero(t, n, fmt.Sprintf("the data leaves %s empty: the comparison would prove nothing", name))
	}
}
