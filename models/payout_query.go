package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// PayoutListMatching loads the local payouts that match any of the Coinflow
// transactions, and, for keys whose withdraw the transactions did not
// match, by idempotency key: almost every page is matched by transaction
// alone, so the second query is rarely needed. It scans rows by hand
// (scanPayouts), not through GORM's reflection: reconciliation calls it once
// per page of withdraws, and GORM's row mapping was a sixth of the run's CPU.
func (s *Store) PayoutListMatching(ctx context.Context, transactions, keys []string) ([]Payout, error) {
	var ps []Payout
	if len(transactions) > 0 {
		var err error
		if ps, err = s.scanPayouts(ctx, "coinflow_transaction IN ?", transactions); err != nil {
			return nil, fmt.Errorf("load payouts for a page: %w", err)
		}
	}
	if len(keys) == 0 {
		return ps, nil
	}
	have := make(map[string]bool, len(ps))
	for i := range ps {
		if ps[i].IdempotencyKey != nil {
			have[*ps[i].IdempotencyKey] = true
		}
	}
	var missing []string
	for _, k := range keys {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return ps, nil
	}
	byKey, err := s.scanPayouts(ctx, "idempotency_key IN ?", missing)
	if err != nil {
		return nil, fmt.Errorf("load payouts for a page: %w", err)
	}
	for i := range byKey {
		dup := false
		for j := range ps {
			dup = dup || ps[j].ID == byKey[i].ID
		}
		if !dup {
			ps = append(ps, byKey[i])
		}
	}
	return ps, nil
}

// payoutColumns are every column of payouts, in the order scanPayouts reads
// them into a Payout (a test holds it to the model's fields).
var payoutColumns = []string{
	"id", "idempotency_key", "user_id", "amount_cents", "amount_currency", "requested_speed", "effective_speed",
	"status", "status_detail", "status_at", "return_status", "coinflow_transaction", "coinflow_transfer_id",
	"account_token", "user_fees_cents", "user_fees_currency", "merchant_fees_cents", "merchant_fees_currency",
	"expected_delivery_at", "source", "request_fingerprint", "initiation_lease_until", "returned_at",
	"wallet_debit_cents", "exchange_rate", "created_at", "updated_at",
}

var payoutSelect = "SELECT " + strings.Join(payoutColumns, ", ") + " FROM payouts WHERE "

// scanPayouts runs SELECT <every column> FROM payouts WHERE where and reads
// the rows into Payouts without reflection.
func (s *Store) scanPayouts(ctx context.Context, where string, args ...any) ([]Payout, error) {
	rows, err := s.db.WithContext(ctx).Raw(payoutSelect+where, args...).Rows()
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var (
		ps                                          []Payout
		statusAt, expected, lease, returned, ct, ut dbTime
		status, source                              string
	)
	for rows.Next() {
		var p Payout
		err := rows.Scan(&p.ID, &p.IdempotencyKey, &p.UserID, &p.Amount.Cents, &p.Amount.Currency, &p.RequestedSpeed, &p.EffectiveSpeed,
			&status, &p.StatusDetail, &statusAt, &p.ReturnStatus, &p.CoinflowTransaction, &p.CoinflowTransferID,
			&p.AccountToken, &p.UserFees.Cents, &p.UserFees.Currency, &p.MerchantFees.Cents, &p.MerchantFees.Currency,
			&expected, &source, &p.RequestFingerprint, &lease, &returned,
			&p.WalletDebitCents, &p.ExchangeRate, &ct, &ut)
		if err != nil {
			return nil, translate(err)
		}
		p.Status, p.Source = PayoutStatus(status), Origin(source)
		p.StatusAt, p.CreatedAt, p.UpdatedAt = statusAt.Time, ct.Time, ut.Time
		p.ExpectedDeliveryAt, p.InitiationLeaseUntil, p.ReturnedAt = expected.ptr(), lease.ptr(), returned.ptr()
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	return ps, nil
}

// payoutEach calls fn for each payout the query selects, in batches, so
// that memory stays one batch whatever the table's size.
func (s *Store) payoutEach(ctx context.Context, q *gorm.DB, fn func(*Payout) error) error {
	var batch []Payout
	res := q.WithContext(ctx).FindInBatches(&batch, 1000, func(_ *gorm.DB, _ int) error {
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if res.Error != nil {
		return fmt.Errorf("scan payouts: %w", translate(res.Error))
	}
	return nil
}

// PayoutEachIDExpectedAtCoinflow calls fn with the id of each payout created
// in [since, before) that Coinflow should list: everything except payouts
// refused before they reached Coinflow (failed with no transaction). It
// reads ids only, so a run can check a million of them against what it saw.
// fn must not use the store: on SQLite the scan holds the one connection.
func (s *Store) PayoutEachIDExpectedAtCoinflow(ctx context.Context, since, before time.Time, fn func(id string) error) error {
	rows, err := s.db.WithContext(ctx).Raw(`SELECT id FROM payouts
WHERE created_at >= ? AND created_at < ? AND NOT (status = ? AND coinflow_transaction IS NULL)`,
		since.UTC(), before.UTC(), StatusFailed).Rows()
	if err != nil {
		return fmt.Errorf("scan payout ids: %w", translate(err))
	}
	defer rows.Close()
	var id string
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("scan payout ids: %w", translate(err))
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan payout ids: %w", translate(err))
	}
	return nil
}

// PayoutListByIDs loads the payouts with the given ids, in id order; ids that
// do not exist are left out.
func (s *Store) PayoutListByIDs(ctx context.Context, ids []string) ([]Payout, error) {
	var out []Payout
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		var ps []Payout
		if err := s.db.WithContext(ctx).Where("id IN ?", chunk).Find(&ps).Error; err != nil {
			return nil, fmt.Errorf("load %d payouts: %w", len(chunk), translate(err))
		}
		out = append(out, ps...)
	}
	slices.SortFunc(out, func(a, b Payout) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// PayoutEachInStatus calls fn for every payout in one of statuses.
func (s *Store) PayoutEachInStatus(ctx context.Context, statuses []PayoutStatus, fn func(*Payout) error) error {
	return s.payoutEach(ctx, s.db.Model(&Payout{}).Where("status IN ?", statuses), fn)
}

// PayoutEachSpeedDiffers calls fn for payouts whose effective speed is known
// and differs from the requested one.
func (s *Store) PayoutEachSpeedDiffers(ctx context.Context, fn func(*Payout) error) error {
	q := s.db.Model(&Payout{}).Where("requested_speed IS NOT NULL AND effective_speed IS NOT NULL AND requested_speed <> effective_speed")
	return s.payoutEach(ctx, q, fn)
}

// PayoutEachOfUnverifiedSince calls fn for each payout created at or after
// since whose withdrawer payoutd holds as not approved or blocked, with
// that withdrawer's state.
func (s *Store) PayoutEachOfUnverifiedSince(ctx context.Context, since time.Time, fn func(*Payout, WithdrawerState) error) error {
	q := s.db.Model(&Payout{}).Where(`created_at >= ? AND user_id IN (SELECT user_id FROM withdrawers
WHERE verification_status <> ? OR blocked)`, since.UTC(), string(VerificationApproved))
	return s.payoutEach(ctx, q, func(p *Payout) error {
		states, err := s.WithdrawerStates(ctx, []string{p.UserID})
		if err != nil {
			return err
		}
		return fn(p, states[p.UserID])
	})
}
