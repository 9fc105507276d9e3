package models

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// FindingKey names a finding: at most one is unresolved per key.
type FindingKey struct {
	Kind    FindingKind
	Subject string
}

// PayoutWrite is one decided change to one payout (see package decide):
// the record before and after, its history rows and its findings. It is
// persisted whole by Store.PayoutWrite inside the caller's transaction.
type PayoutWrite struct {
	// Old is the record the decision was made from; nil when New is a
	// payout discovered by this decision.
	Old *Payout
	New *Payout
	// History rows; PayoutID, when empty, and CreatedAt are filled in.
	History []PayoutHistory
	// HistoryIfOpened, when set, writes History only when this write opens
	// that finding (one of Raise): a disagreement that persists is noted
	// once, not on every run that sees it again.
	HistoryIfOpened *FindingKey
	Raise           []Finding
	Resolve         []FindingKey
	// RunID, when set, is the reconciliation run the findings are raised
	// or resolved in.
	RunID *string
}

// WriteResult counts what a write did to findings.
type WriteResult struct {
	Raised, Opened, Resolved int
	opened                   []FindingKey
}

// decidedColumns are the payout columns a decision may change, by column
// name. Everything else (requested speed, account token, fingerprint,
// lease) belongs to initiation and is never touched by evidence.
func decidedColumns(p *Payout) map[string]any {
	return map[string]any{
		"idempotency_key":        p.IdempotencyKey,
		"user_id":                p.UserID,
		"amount_cents":           p.Amount.Cents,
		"amount_currency":        p.Amount.Currency,
		"effective_speed":        p.EffectiveSpeed,
		"status":                 p.Status,
		"status_detail":          p.StatusDetail,
		"status_at":              p.StatusAt.UTC(),
		"return_status":          p.ReturnStatus,
		"coinflow_transaction":   p.CoinflowTransaction,
		"coinflow_transfer_id":   p.CoinflowTransferID,
		"user_fees_cents":        p.UserFees.Cents,
		"user_fees_currency":     p.UserFees.Currency,
		"merchant_fees_cents":    p.MerchantFees.Cents,
		"merchant_fees_currency": p.MerchantFees.Currency,
		"expected_delivery_at":   utcPtr(p.ExpectedDeliveryAt),
		"returned_at":            utcPtr(p.ReturnedAt),
		"wallet_debit_cents":     p.WalletDebitCents,
		"exchange_rate":          p.ExchangeRate,
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

// PayoutColumnsChanged lists the columns whose values differ between two
// versions of a payout, as column to [old, new]; nil when none does.
func PayoutColumnsChanged(old, new *Payout) map[string][2]any {
	return changesOf(payoutColumnsDiffering(old, new), func() map[string]any { return decidedColumns(old) },
		func() map[string]any { return decidedColumns(new) })
}

// changesOf gives the named columns' values before and after, as column to
// [old, new]; nil for no columns. The comparison that named them is typed
// (it boxes nothing); the values are boxed only for what changed.
func changesOf(cols []string, before, after func() map[string]any) map[string][2]any {
	if len(cols) == 0 {
		return nil
	}
	a, b := before(), after()
	out := make(map[string][2]any, len(cols))
	for _, col := range cols {
		out[col] = [2]any{plain(a[col]), plain(b[col])}
	}
	return out
}

// payoutColumnsDiffering names the decided columns that differ, comparing
// the typed fields: nothing is boxed or allocated when none does, the
// common case of evidence that agrees.
func payoutColumnsDiffering(a, b *Payout) []string {
	var cols []string
	differ := func(d bool, col string) {
		if d {
			cols = append(cols, col)
		}
	}
	differ(!sameText(a.IdempotencyKey, b.IdempotencyKey), "idempotency_key")
	differ(a.UserID != b.UserID, "user_id")
	differ(a.Amount.Cents != b.Amount.Cents, "amount_cents")
	differ(a.Amount.Currency != b.Amount.Currency, "amount_currency")
	differ(!sameText(a.EffectiveSpeed, b.EffectiveSpeed), "effective_speed")
	differ(a.Status != b.Status, "status")
	differ(!sameText(a.StatusDetail, b.StatusDetail), "status_detail")
	differ(!a.StatusAt.Equal(b.StatusAt), "status_at")
	differ(!sameText(a.ReturnStatus, b.ReturnStatus), "return_status")
	differ(!sameText(a.CoinflowTransaction, b.CoinflowTransaction), "coinflow_transaction")
	differ(!sameText(a.CoinflowTransferID, b.CoinflowTransferID), "coinflow_transfer_id")
	differ(a.UserFees.Cents != b.UserFees.Cents, "user_fees_cents")
	differ(a.UserFees.Currency != b.UserFees.Currency, "user_fees_currency")
	differ(a.MerchantFees.Cents != b.MerchantFees.Cents, "merchant_fees_cents")
	differ(a.MerchantFees.Currency != b.MerchantFees.Currency, "merchant_fees_currency")
	differ(!sameTime(a.ExpectedDeliveryAt, b.ExpectedDeliveryAt), "expected_delivery_at")
	differ(!sameTime(a.ReturnedAt, b.ReturnedAt), "returned_at")
	differ(!sameInt(a.WalletDebitCents, b.WalletDebitCents), "wallet_debit_cents")
	differ(!sameText(a.ExchangeRate, b.ExchangeRate), "exchange_rate")
	return cols
}

func sameText(a, b *string) bool { return (a == nil) == (b == nil) && Deref(a) == Deref(b) }

func sameInt(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func sameTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

// plain dereferences a column value: nil for a nil pointer.
func plain(v any) any {
	switch x := v.(type) {
	case *string:
		if x == nil {
			return nil
		}
		return *x
	case *int64:
		if x == nil {
			return nil
		}
		return *x
	case *time.Time:
		if x == nil {
			return nil
		}
		return x.UTC()
	case time.Time:
		return x.UTC()
	case PayoutStatus:
		return string(x)
	}
	return v
}

// PayoutWrite persists a decision: it creates New (Old nil) or updates the
// columns that changed, guarded by Old's status and updated_at so that a
// decision made from a read another writer has since overtaken is never
// written (ErrConflict; the caller decides again from a fresh read); then
// it writes the history rows and raises and resolves the findings. Call it
// in a transaction.
func (s *Store) PayoutWrite(ctx context.Context, w PayoutWrite) (WriteResult, error) {
	now := s.Now()
	p := w.New
	if w.Old == nil {
		if err := s.payoutInsert(ctx, p, now); err != nil {
			return WriteResult{}, err
		}
	} else if err := s.payoutUpdate(ctx, w.Old, p, now); err != nil {
		return WriteResult{}, err
	}
	res, err := s.findingsApply(ctx, w.Raise, w.Resolve, w.RunID)
	if err != nil {
		return res, err
	}
	if k := w.HistoryIfOpened; k != nil && !slices.Contains(res.opened, *k) {
		return res, nil
	}
	rows := slices.Clone(w.History)
	for i := range rows {
		rows[i].PayoutID = cmp.Or(rows[i].PayoutID, p.ID)
		rows[i].EvidenceAt, rows[i].CreatedAt = rows[i].EvidenceAt.UTC().Truncate(time.Microsecond), now
	}
	return res, insertRows(ctx, s, rows, "payout history "+p.ID)
}

// insertRows inserts history rows in one statement; what names them in
// errors.
func insertRows[T any](ctx context.Context, s *Store, rows []T, what string) error {
	if len(rows) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Create(&rows).Error; err != nil {
		return fmt.Errorf("write %s: %w", what, translate(err))
	}
	return nil
}

func (s *Store) payoutInsert(ctx context.Context, p *Payout, now time.Time) error {
	if p.ID == "" {
		p.ID = NewID()
	}
	PayoutAsStored(p, true, now)
	if err := s.db.WithContext(ctx).Create(p).Error; err != nil {
		return fmt.Errorf("create payout: %w", translate(err))
	}
	return nil
}

func (s *Store) payoutUpdate(ctx context.Context, old, p *Payout, now time.Time) error {
	changed := payoutColumnsDiffering(old, p)
	if len(changed) == 0 {
		return nil
	}
	cols := decidedColumns(p)
	updates := make(map[string]any, len(changed)+1)
	for _, col := range changed {
		updates[col] = cols[col]
	}
	updates["updated_at"] = now
	res := s.db.WithContext(ctx).Model(&Payout{}).
		Where("id = ? AND status = ? AND status_at = ? AND updated_at = ?", old.ID, old.Status, old.StatusAt.UTC(), old.UpdatedAt.UTC()).
		Updates(updates)
	if res.Error != nil {
		return fmt.Errorf("update payout %s: %w", old.ID, translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("update payout %s: changed underneath: %w", old.ID, ErrConflict)
	}
	p.UpdatedAt = now
	return nil
}

// findingsApply raises and resolves a decision's findings, in run runID
// when one is given, and counts what it did.
func (s *Store) findingsApply(ctx context.Context, raise []Finding, resolve []FindingKey, runID *string) (WriteResult, error) {
	var res WriteResult
	for _, f := range raise {
		f.LastRunID = runID
		_, opened, err := s.FindingRaise(ctx, f)
		if err != nil {
			return res, err
		}
		res.Raised++
		if opened {
			res.Opened++
			res.opened = append(res.opened, FindingKey{Kind: f.Kind, Subject: f.Subject})
		}
	}
	for _, k := range resolve {
		q := s.db.WithContext(ctx).Model(&Finding{}).Where("kind = ? AND subject = ? AND resolved_at IS NULL", k.Kind, k.Subject)
		set := map[string]any{"status": FindingResolved, "resolved_at": s.Now(), "resolved_run_id": runID}
		r := q.Updates(set)
		if r.Error != nil {
			return res, fmt.Errorf("resolve finding %s/%s: %w", k.Kind, k.Subject, translate(r.Error))
		}
		res.Resolved += int(r.RowsAffected)
	}
	return res, nil
}
