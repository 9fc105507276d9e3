package models

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PayoutsForEvidence loads, in one query, every payout whose transaction,
// idempotency key or transfer id is among the given ones: all the
// candidates a batch of evidence can name. On PostgreSQL, in a transaction,
// the rows are locked until commit, in id order, so that two appliers
// locking overlapping sets cannot deadlock.
func (s *Store) PayoutsForEvidence(ctx context.Context, transactions, keys, transferIDs []string) ([]Payout, error) {
	var conds []string
	var args []any
	add := func(col string, vals []string) {
		if len(vals) > 0 {
			conds = append(conds, col+" IN ?")
			args = append(args, vals)
		}
	}
	add("coinflow_transaction", transactions)
	add("idempotency_key", keys)
	add("coinflow_transfer_id", transferIDs)
	if len(conds) == 0 {
		return nil, nil
	}
	var ps []Payout
	q := s.forUpdate(s.db.WithContext(ctx)).Where(strings.Join(conds, " OR "), args...).Order("id")
	if err := q.Find(&ps).Error; err != nil {
		return nil, fmt.Errorf("load %d payouts for evidence: %w", len(transactions)+len(keys)+len(transferIDs), translate(err))
	}
	return ps, nil
}

// discoveryLockClass is the first key of the advisory locks that
// PayoutLockNew takes (the two-key form, apart from every one-key lock).
const discoveryLockClass = 0x70617964 // "payd"

// PayoutLockNew takes, on PostgreSQL, a transaction-scoped advisory lock on
// each transaction signature or idempotency key that no payout has yet,
// in one order, so that two appliers about to discover the same withdrawal
// take turns instead of colliding on its unique key: the second waits for
// the first to commit, then reads the payout the first recorded. SQLite has
// one writer already; there it does nothing.
func (s *Store) PayoutLockNew(ctx context.Context, keys []string) error {
	if s.dialect != DialectPostgres || len(keys) == 0 {
		return nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	q := "SELECT pg_advisory_xact_lock(" + strconv.Itoa(discoveryLockClass) + ", h) FROM " +
		"(SELECT DISTINCT hashtext(k) AS h FROM unnest(ARRAY[" +
		strings.TrimSuffix(strings.Repeat("CAST(? AS text), ", len(keys)), ", ") + "]) AS k ORDER BY h) AS keys"
	if err := s.db.WithContext(ctx).Exec(q, args...).Error; err != nil {
		return fmt.Errorf("lock %d new payout keys: %w", len(keys), translate(err))
	}
	return nil
}

// WithdrawersForUpdate loads the withdrawers among userIDs that are known,
// in one query, locked until commit on PostgreSQL (in user order).
func (s *Store) WithdrawersForUpdate(ctx context.Context, userIDs []string) ([]Withdrawer, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	var ws []Withdrawer
	if err := s.forUpdate(s.db.WithContext(ctx)).Where("user_id IN ?", userIDs).Order("user_id").Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("lock %d withdrawers: %w", len(userIDs), translate(err))
	}
	return ws, nil
}

// PayoutAsStored is p as PayoutWrite would store it at now: times in UTC
// at the database's microsecond precision, and a new payout's creation and
// status times defaulted to now (a discovered payout may carry Coinflow's
// creation time; anything else is created now). A caller that decides several pieces of
// evidence in memory before writing decides each from the record as a
// fresh read would give it.
func PayoutAsStored(p *Payout, created bool, now time.Time) {
	if created {
		if p.CreatedAt.IsZero() {
			p.CreatedAt = now
		}
		if p.StatusAt.IsZero() {
			p.StatusAt = now
		}
		p.CreatedAt = p.CreatedAt.UTC().Truncate(time.Microsecond)
	}
	p.StatusAt = p.StatusAt.UTC().Truncate(time.Microsecond)
	p.ExpectedDeliveryAt, p.ReturnedAt = utcPtr(p.ExpectedDeliveryAt), utcPtr(p.ReturnedAt)
	p.UpdatedAt = now
}

// PayoutWriteSet persists the decisions a batch made in memory, in event
// order, in a few statements: writes holds every decision; their Old and
// New point into the batch's working records, so several writes of one
// payout chain (the New of one is the Old of the next). loaded is each
// payout as it was read from the database (absent: created in this batch).
//
// The payouts are written once each, in their final state: the new ones in
// one multi-row INSERT, the changed ones in one multi-row UPDATE guarded,
// like PayoutWrite's, by the status and updated_at that were read (a row
// changed underneath fails the whole set with ErrConflict). The findings
// are then raised and resolved write by write, in order, as PayoutWrite
// does; and the history rows of every write go in one INSERT, in order,
// keeping PayoutWrite's rule for HistoryIfOpened. The result equals that
// of calling PayoutWrite for each write in turn.
func (s *Store) PayoutWriteSet(ctx context.Context, loaded map[string]Payout, writes []PayoutWrite) error {
	if len(writes) == 0 {
		return nil
	}
	now := s.Now()
	final := make(map[string]*Payout, len(writes))
	var order []string
	for _, w := range writes {
		if _, seen := final[w.New.ID]; !seen {
			order = append(order, w.New.ID)
		}
		final[w.New.ID] = w.New
	}
	var created []Payout
	var changed []payoutChange
	for _, id := range order {
		p := final[id]
		old, ok := loaded[id]
		if !ok {
			PayoutAsStored(p, true, now)
			created = append(created, *p)
			continue
		}
		if len(payoutColumnsDiffering(&old, p)) == 0 {
			continue
		}
		p.UpdatedAt = now
		changed = append(changed, payoutChange{old: old, new: p})
	}
	if len(created) > 0 {
		if err := s.db.WithContext(ctx).Create(&created).Error; err != nil {
			return fmt.Errorf("create %d payouts: %w", len(created), translate(err))
		}
	}
	if err := s.payoutUpdateMany(ctx, changed, now); err != nil {
		return err
	}
	var rows []PayoutHistory
	for _, w := range writes {
		res, err := s.findingsApply(ctx, w.Raise, w.Resolve, w.RunID)
		if err != nil {
			return err
		}
		if k := w.HistoryIfOpened; k != nil && !slices.Contains(res.opened, *k) {
			continue
		}
		for _, h := range w.History {
			if h.PayoutID == "" {
				h.PayoutID = w.New.ID
			}
			h.EvidenceAt, h.CreatedAt = h.EvidenceAt.UTC().Truncate(time.Microsecond), now
			rows = append(rows, h)
		}
	}
	return insertRows(ctx, s, rows, fmt.Sprintf("history of %d payouts", len(order)))
}

type payoutChange struct {
	old Payout
	new *Payout
}

// payoutSetColumns are the columns payoutUpdateMany sets, in the order of
// payoutSetValues, with their PostgreSQL types (a VALUES list's
// parameters have none of their own).
var payoutSetColumns = []struct{ name, pgType string }{
	{"idempotency_key", "text"}, {"user_id", "text"}, {"amount_cents", "bigint"}, {"amount_currency", "text"},
	{"effective_speed", "text"}, {"status", "text"}, {"status_detail", "text"}, {"status_at", "timestamptz"},
	{"return_status", "text"}, {"coinflow_transaction", "text"}, {"coinflow_transfer_id", "text"},
	{"user_fees_cents", "bigint"}, {"user_fees_currency", "text"}, {"merchant_fees_cents", "bigint"},
	{"merchant_fees_currency", "text"}, {"expected_delivery_at", "timestamptz"}, {"returned_at", "timestamptz"},
	{"wallet_debit_cents", "bigint"}, {"exchange_rate", "text"},
}

func payoutSetValues(p *Payout) []any {
	return []any{
		p.IdempotencyKey, p.UserID, p.Amount.Cents, p.Amount.Currency, p.EffectiveSpeed, string(p.Status), p.StatusDetail,
		p.StatusAt.UTC(), p.ReturnStatus, p.CoinflowTransaction, p.CoinflowTransferID, p.UserFees.Cents, p.UserFees.Currency,
		p.MerchantFees.Cents, p.MerchantFees.Currency, utcPtr(p.ExpectedDeliveryAt), utcPtr(p.ReturnedAt),
		p.WalletDebitCents, p.ExchangeRate,
	}
}

// payoutUpdateChunk bounds the rows of one UPDATE (24 parameters a row,
// well under SQLite's and PostgreSQL's limits).
const payoutUpdateChunk = 500

// payoutUpdateMany writes the changed payouts in one UPDATE … FROM a VALUES
// list per chunk (both databases take it), each row guarded by the status
// and stamps that were read.
func (s *Store) payoutUpdateMany(ctx context.Context, changes []payoutChange, now time.Time) error {
	for len(changes) > 0 {
		n := min(len(changes), payoutUpdateChunk)
		if err := s.payoutUpdateChunk(ctx, changes[:n], now); err != nil {
			return err
		}
		changes = changes[n:]
	}
	return nil
}

func (s *Store) payoutUpdateChunk(ctx context.Context, changes []payoutChange, now time.Time) error {
	cast := func(typ string) string {
		if s.dialect == DialectPostgres {
			return "CAST(? AS " + typ + ")"
		}
		return "?"
	}
	names := []string{"id", "old_status", "old_status_at", "old_updated_at"}
	row := []string{"?", "?", cast("timestamptz"), cast("timestamptz")}
	var set []string
	for _, c := range payoutSetColumns {
		names = append(names, c.name)
		row = append(row, cast(c.pgType))
		set = append(set, c.name+" = v."+c.name)
	}
	set = append(set, "updated_at = "+cast("timestamptz"))
	var sb strings.Builder
	args := make([]any, 0, len(changes)*len(names)+1)
	sb.WriteString("WITH v(" + strings.Join(names, ", ") + ") AS (VALUES ")
	for i, c := range changes {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + strings.Join(row, ", ") + ")")
		args = append(args, c.old.ID, string(c.old.Status), c.old.StatusAt.UTC(), c.old.UpdatedAt.UTC())
		args = append(args, payoutSetValues(c.new)...)
	}
	sb.WriteString(") UPDATE payouts SET " + strings.Join(set, ", ") +
		" FROM v WHERE payouts.id = v.id AND payouts.status = v.old_status" +
		" AND payouts.status_at = v.old_status_at AND payouts.updated_at = v.old_updated_at")
	args = append(args, now)
	res := s.db.WithContext(ctx).Exec(sb.String(), args...)
	if res.Error != nil {
		return fmt.Errorf("update %d payouts: %w", len(changes), translate(res.Error))
	}
	if res.RowsAffected != int64(len(changes)) {
		return fmt.Errorf("update %d payouts: %d matched what was read: %w", len(changes), res.RowsAffected, ErrConflict)
	}
	return nil
}
