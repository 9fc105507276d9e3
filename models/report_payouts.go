package models

import (
	"context"
	"fmt"
	"time"
)

// ReportPayout is one payout as the itemized report lists it: what finance
// needs to match it against a bank statement or the ledger, and nothing
// else (no account token, no idempotency key).
type ReportPayout struct {
	ID                  string
	UserID              string
	CreatedAt           time.Time // UTC
	Status              string
	RequestedSpeed      *string
	EffectiveSpeed      *string
	Amount              Money
	UserFees            Money
	MerchantFees        Money
	WalletDebitCents    *int64  // nil until Coinflow priced a foreign payout
	ExchangeRate        *string // as Coinflow wrote it
	CoinflowTransaction *string // nil: the payout never reached Coinflow
	ReturnStatus        *string
	ReturnedAt          *time.Time
}

// reportPayoutColumns are what ReportPayoutPages reads, in scan order.
const reportPayoutColumns = `id, user_id, created_at, status, requested_speed, effective_speed, amount_cents, amount_currency,
       user_fees_cents, user_fees_currency, merchant_fees_cents, merchant_fees_currency, wallet_debit_cents,
       exchange_rate, coinflow_transaction, return_status, returned_at`

// keyTime scans a created_at into a time and keeps the value as the driver
// gave it, to be handed back as the next page's keyset bound: SQLite
// compares its times as text, so the bound must be the stored text itself,
// not a time re-formatted.
type keyTime struct {
	dbTime
	raw any
}

func (k *keyTime) Scan(src any) error {
	if b, ok := src.([]byte); ok {
		src = string(b) // the driver may reuse b
	}
	k.raw = src
	return k.dbTime.Scan(src)
}

// ReportPayoutPages calls fn with the payouts created in [from, to), in
// pages of at most pageSize, ordered by (created_at, id). Each page is its
// own query that starts after the previous page's last (created_at, id),
// and fn runs after the page's rows are closed: on SQLite the one
// connection, which the webhook committer shares, is free between pages, and
// memory holds one page whatever the range holds. Called on the store that
// ReportRead hands over, PostgreSQL reads every page in the report's one
// snapshot. fn may use the store.
func (s *Store) ReportPayoutPages(ctx context.Context, from, to time.Time, pageSize int, fn func([]ReportPayout) error) error {
	if pageSize < 1 {
		return fmt.Errorf("report payouts: page size %d, want at least 1", pageSize)
	}
	page := make([]ReportPayout, 0, pageSize)
	var afterAt any
	var afterID string
	for {
		var err error
		page, afterAt, afterID, err = s.reportPayoutPage(ctx, page[:0], from, to, afterAt, afterID, pageSize)
		if err != nil {
			return fmt.Errorf("report payouts: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		if err := fn(page); err != nil {
			return err
		}
		if len(page) < pageSize {
			return nil
		}
	}
}

// reportPayoutPage reads into page the next payouts after (afterAt,
// afterID), or from the start when afterAt is nil, and returns the last
// one's key.
func (s *Store) reportPayoutPage(ctx context.Context, page []ReportPayout, from, to time.Time, afterAt any, afterID string,
	limit int) ([]ReportPayout, any, string, error) {
	where, args := "created_at >= ? AND created_at < ?", []any{from.UTC(), to.UTC()}
	if afterAt != nil {
		// The key is also the lower bound of created_at: given the range's
		// start beside the row comparison, SQLite scanned the index from
		// the start of the range on every page, so that a page deep in 200,000
		// payouts took 70 ms instead of 5, and the whole read grew with the
		// square of the range.
		where = "created_at >= ? AND created_at < ? AND (created_at, id) > (?, ?)"
		args = []any{afterAt, to.UTC(), afterAt, afterID}
	}
	rows, err := s.db.WithContext(ctx).Raw(`SELECT `+reportPayoutColumns+` FROM payouts WHERE `+where+`
ORDER BY created_at, id LIMIT ?`, append(args, limit)...).Rows()
	if err != nil {
		return nil, nil, "", translate(err)
	}
	defer rows.Close()
	var created keyTime
	var returned dbTime
	for rows.Next() {
		var p ReportPayout
		err := rows.Scan(&p.ID, &p.UserID, &created, &p.Status, &p.RequestedSpeed, &p.EffectiveSpeed,
			&p.Amount.Cents, &p.Amount.Currency, &p.UserFees.Cents, &p.UserFees.Currency,
			&p.MerchantFees.Cents, &p.MerchantFees.Currency, &p.WalletDebitCents, &p.ExchangeRate,
			&p.CoinflowTransaction, &p.ReturnStatus, &returned)
		if err != nil {
			return nil, nil, "", translate(err)
		}
		p.CreatedAt, p.ReturnedAt = created.Time, returned.ptr()
		afterAt, afterID = created.raw, p.ID
		page = append(page, p)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, "", translate(err)
	}
	return page, afterAt, afterID, nil
}
