package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/payoutd/payoutd/models"
	"github.com/payoutd/payoutd/rail"
)

// payoutsColumns is the header of the payouts report: one row per payout
// created in the range, oldest first (by created_at, then id). Each money
// column has its currency in the column before it; a fee of a payout that
// never had one is empty in both. wallet_debit is what the payout cost the
// USD wallet as the summary's wallet debits count it: a USD payout its
// amount and merchant fee, a foreign one what Coinflow priced it at; empty
// when the payout never reached Coinflow (no coinflow_transaction) or is
// not priced yet.
var payoutsColumns = []string{
	"payout_id", "user_id", "created_at", "status", "requested_speed", "effective_speed",
	"currency", "amount", "user_fee_currency", "user_fee", "merchant_fee_currency", "merchant_fee",
	"wallet_debit_currency", "wallet_debit", "exchange_rate", "coinflow_transaction", "return_status", "returned_at",
}

// payoutsPageSize is how many payouts the payouts report reads at a time.
const payoutsPageSize = 1000

// writePayouts streams the payouts created in [from, to) to w, pageSize
// at a time (models.Store.ReportPayoutPages): memory holds one page, and on
// SQLite the connection is free for webhook commits between pages.
//
// The rows must add up to the summary's payout totals: before the first
// row it takes those totals the way Build does, in the same read (on
// PostgreSQL, one snapshot), and after the last it compares them with the
// rows' sums per currency. A difference, like any failure once rows are
// written, is an error after part of the file: the caller must make it
// visible (the API cuts the response, the CLI exits 1), never pass the file
// off as whole. SQLite reads without a snapshot, so there the rows and
// totals stop at the moment the report started: a payout created while it
// is read is in neither. A payout Coinflow reports later, with an earlier
// creation time, can still land between pages: the check then fails, and a
// second run gives the whole file.
func writePayouts(ctx context.Context, w io.Writer, store *models.Store, from, to time.Time, pageSize int) error {
	if err := CheckRange(from, to); err != nil {
		return err
	}
	from, to = from.UTC(), to.UTC()
	what := fmt.Sprintf("payouts report %s to %s", from.Format(time.DateOnly), to.Format(time.DateOnly))
	err := store.ReportRead(ctx, func(st *models.Store) error {
		until := to
		if now := st.Now(); st.Dialect() == models.DialectSQLite && now.Before(until) {
			until = now
		}
		gs, err := st.ReportGroups(ctx, from, until, rail.NACHALimitCents)
		if err != nil {
			return err
		}
		var want Summary
		if err := rangePayouts(&want, gs); err != nil {
			return err
		}
		t := newTable(w, NamePayouts, payoutsColumns)
		got := newSums[string]("payouts", "payout amounts")
		err = st.ReportPayoutPages(ctx, from, until, pageSize, func(page []models.ReportPayout) error {
			for i := range page {
				p := &page[i]
				if err := got.add(p.Amount.Currency, 1, p.Amount.Cents); err != nil {
					return err
				}
				if err := t.payout(p); err != nil {
					return err
				}
			}
			// A page at a time reaches w: the download moves as it is read.
			return t.flush()
		})
		if err != nil {
			return err
		}
		if err := t.flush(); err != nil { // the header, when no payout was created in the range
			return err
		}
		var rows []Amount
		got.rows(cmp.Compare[string], func(c string, v models.ReportSum) {
			rows = append(rows, amount(c, v.Count, v.Cents))
		})
		if errs := checkTotals("payouts", want.Payouts.Totals, rows); len(errs) > 0 {
			return fmt.Errorf("rows do not add up to the totals (payouts changed while they were read; run the report again): %w",
				errors.Join(errs...))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// payout writes one payout's row.
func (t *table) payout(p *models.ReportPayout) error {
	debitCurrency, debit, err := walletDebit(p)
	if err != nil {
		return err
	}
	userFeeCurrency, userFee := fee(p.UserFees)
	merchantFeeCurrency, merchantFee := fee(p.MerchantFees)
	returned := ""
	if p.ReturnedAt != nil {
		returned = csvTime(*p.ReturnedAt)
	}
	t.row(p.ID, p.UserID, csvTime(p.CreatedAt), p.Status, models.Deref(p.RequestedSpeed), models.Deref(p.EffectiveSpeed),
		p.Amount.Currency, decimal(p.Amount.Cents), userFeeCurrency, userFee, merchantFeeCurrency, merchantFee,
		debitCurrency, debit, models.Deref(p.ExchangeRate), models.Deref(p.CoinflowTransaction), models.Deref(p.ReturnStatus), returned)
	return t.err
}

// fee is a fee's currency and amount; both empty for a payout that never
// had the fee (no currency, nothing charged).
func fee(m models.Money) (string, string) {
	if m.Currency == "" && m.Cents == 0 {
		return "", ""
	}
	return m.Currency, decimal(m.Cents)
}

// walletDebit is the wallet's currency and what p cost it, by the rule of
// the summary's wallet debits (rangeWalletDebits, models.USDCost); both
// empty when p never reached Coinflow or is not priced yet.
func walletDebit(p *models.ReportPayout) (string, string, error) {
	switch {
	case p.CoinflowTransaction == nil:
		return "", "", nil
	case p.Amount.Currency == walletCurrency:
		cents, err := models.AddCents(p.Amount.Cents, p.MerchantFees.Cents)
		if err != nil {
			return "", "", fmt.Errorf("wallet debit of payout %s %w", p.ID, err)
		}
		return walletCurrency, decimal(cents), nil
	case p.WalletDebitCents == nil:
		return "", "", nil
	}
	return walletCurrency, decimal(*p.WalletDebitCents), nil
}
