package main

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// rangeStart is the first day of the loaded payouts.
var rangeStart = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)

// loadPayouts writes payouts g = lo..hi of n spread evenly over span
// seconds from rangeStart. By g: a twentieth each BRL, a tenth GBP, three
// twentieths EUR, the rest USD (standard, same_day or asap; IBAN and PIX
// abroad); 85% completed, 5% failed (half of those returned or being
// returned, a fifth never reached Coinflow), 6% pending (a tenth of the
// asap ones unclaimed), the rest in review, requested or unknown; 1 in 31
// same_day payouts paid standard, 1 in 997 amounts above the NACHA limit;
// foreign payouts priced in USD but a tenth.
const loadPayouts = `INSERT INTO payouts (id, idempotency_key, user_id, amount_cents, amount_currency, requested_speed, effective_speed,
  status, status_detail, status_at, return_status, coinflow_transaction, user_fees_cents, user_fees_currency,
  merchant_fees_cents, merchant_fees_currency, source, created_at, updated_at, returned_at, wallet_debit_cents, exchange_rate)
SELECT id, 'k' || g, 'u-' || (g % 50000), cents, cur, req,
  CASE WHEN status = 'requested' THEN NULL
       WHEN req = 'same_day' AND g % 31 = 0 THEN 'standard'
       WHEN req = 'asap' AND g % 37 = 0 THEN 'same_day'
       ELSE req END,
  status,
  CASE WHEN status = 'pending' AND req = 'asap' AND g % 10 = 0 THEN 'unclaimed' END,
  created,
  CASE WHEN status = 'failed' AND g % 4 = 0 THEN 'return_completed'
       WHEN status = 'failed' AND g % 4 = 1 THEN 'pending_return'
       WHEN status = 'completed' AND g % 500 = 0 THEN 'pending_return' END,
  CASE WHEN status = 'requested' OR (status = 'failed' AND g % 4 = 2) THEN NULL ELSE 'tx' || g END,
  CASE WHEN req = 'asap' THEN 50 ELSE 0 END, CASE WHEN req = 'asap' THEN cur ELSE '' END,
  25, cur, 'api', created, created,
  CASE WHEN status = 'failed' AND g % 4 = 0 THEN created + interval '2 days' END,
  CASE WHEN cur <> 'USD' AND g % 10 <> 3 THEN cents * 108 / 100 + 25 END,
  CASE WHEN cur <> 'USD' AND g % 10 <> 3 THEN '1.08' END
FROM (
  SELECT g, 'p' || lpad(g::text, 10, '0') AS id,
    ?::timestamptz + make_interval(secs => g::float8 * ? / ?) AS created, c.cur,
    CASE WHEN c.cur = 'USD' THEN (ARRAY['standard','same_day','asap'])[1 + (g / 20) % 3]
         WHEN c.cur = 'BRL' THEN 'pix' ELSE 'iban' END AS req,
    CASE WHEN (g / 7) % 100 < 85 THEN 'completed' WHEN (g / 7) % 100 < 90 THEN 'failed'
         WHEN (g / 7) % 100 < 96 THEN 'pending' WHEN (g / 7) % 100 < 98 THEN 'in_review'
         WHEN (g / 7) % 100 < 99 THEN 'requested' ELSE 'unknown' END AS status,
    CASE WHEN g % 997 = 0 THEN 150000000 ELSE 100 + (g * 7919) % 500000 END AS cents
  FROM generate_series(?::bigint, ?::bigint) g,
  LATERAL (SELECT (ARRAY['USD','USD','USD','USD','USD','USD','USD','USD','USD','USD','USD','USD','USD','USD',
                         'EUR','EUR','EUR','GBP','GBP','BRL'])[1 + g % 20] AS cur) c
) s`

// loadFindings raises findings about payouts spread over the table: a
// fifth stuck (warning), the rest speed mismatches (info or warning); those
// past the unresolved ones resolved.
const loadFindings = `INSERT INTO findings (id, kind, subject, severity, status, payout_id, details, first_seen_at, last_seen_at, resolved_at)
SELECT 'f' || lpad(g::text, 8, '0'),
  CASE WHEN g % 5 = 0 THEN 'stuck_payout' ELSE 'speed_mismatch' END,
  p.id, CASE WHEN g % 5 = 0 THEN 'warning' WHEN g % 3 = 0 THEN 'info' ELSE 'warning' END,
  CASE WHEN g > ? THEN 'resolved' ELSE 'open' END, p.id,
  '{"requested_speed":"same_day","effective_speed":"standard","expected":false}',
  p.created_at + interval '1 day', p.created_at + interval '2 days',
  CASE WHEN g > ? THEN p.created_at + interval '3 days' END
FROM generate_series(1, ?::bigint) g
JOIN payouts p ON p.id = 'p' || lpad((g * ?)::text, 10, '0')`

const loadSnapshots = `INSERT INTO wallet_snapshots (run_id, taken_at, balance_cents)
SELECT 'run-' || g, ?::timestamptz + make_interval(secs => g * ?), 10000000000 - g * 1000
FROM generate_series(0, ?::bigint - 1) g`

// load fills the database in batches of a million payouts, then analyzes
// it as autovacuum would.
func load(ctx context.Context, db *gorm.DB, o options) error {
	span := float64(o.days * 24 * 60 * 60)
	const batch = 1_000_000
	for lo := 1; lo <= o.n; lo += batch {
		hi := min(lo+batch-1, o.n)
		if err := db.WithContext(ctx).Exec(loadPayouts, rangeStart, span, o.n, lo, hi).Error; err != nil {
			return fmt.Errorf("load payouts %d-%d: %w", lo, hi, err)
		}
	}
	if o.findings > 0 {
		all := o.findings + o.findings/20
		if err := db.WithContext(ctx).Exec(loadFindings, o.findings, o.findings, all, max(o.n/all, 1)).Error; err != nil {
			return fmt.Errorf("load findings: %w", err)
		}
	}
	if o.snapshotEvery > 0 {
		every := o.snapshotEvery.Seconds()
		n := int(time.Duration(o.days) * 24 * time.Hour / o.snapshotEvery)
		if err := db.WithContext(ctx).Exec(loadSnapshots, rangeStart, every, n).Error; err != nil {
			return fmt.Errorf("load wallet snapshots: %w", err)
		}
	}
	if err := db.WithContext(ctx).Exec("VACUUM ANALYZE payouts, findings, wallet_snapshots").Error; err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}
