package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm/clause"
)

// WithdrawerWrite is one decided change to one withdrawer (see package
// decide), persisted whole by Store.WithdrawerWrite in the caller's
// transaction.
type WithdrawerWrite struct {
	Old     *Withdrawer // nil: New is created
	New     *Withdrawer
	History []WithdrawerHistory
	Raise   []Finding
	Resolve []FindingKey
	RunID   *string
}

func withdrawerColumns(w *Withdrawer) map[string]any {
	return map[string]any{
		"wallet":              w.Wallet,
		"blockchain":          w.Blockchain,
		"email_masked":        w.EmailMasked,
		"verification_status": string(w.VerificationStatus),
		"verification_at":     w.VerificationAt.UTC(),
		"blocked":             w.Blocked,
		"country":             w.Country,
		"currency":            w.Currency,
		"verification_link":   w.VerificationLink,
	}
}

// WithdrawerColumnsChanged lists the columns whose values differ between
// two versions of a withdrawer, as column to [old, new]; nil when none
// does. The sync time is not a change.
func WithdrawerColumnsChanged(old, new *Withdrawer) map[string][2]any {
	return changesOf(withdrawerColumnsDiffering(old, new), func() map[string]any { return withdrawerColumns(old) },
		func() map[string]any { return withdrawerColumns(new) })
}

func withdrawerColumnsDiffering(a, b *Withdrawer) []string {
	var cols []string
	for col, differ := range map[string]bool{
		"wallet": a.Wallet != b.Wallet, "blockchain": a.Blockchain != b.Blockchain, "email_masked": a.EmailMasked != b.EmailMasked,
		"verification_status": a.VerificationStatus != b.VerificationStatus,
		"verification_at":     !a.VerificationAt.Equal(b.VerificationAt), "blocked": a.Blocked != b.Blocked,
		"country": !sameText(a.Country, b.Country), "currency": !sameText(a.Currency, b.Currency),
		"verification_link": !sameText(a.VerificationLink, b.VerificationLink),
	} {
		if differ {
			cols = append(cols, col)
		}
	}
	return cols
}

// WithdrawerWrite persists a decision: it creates New (Old nil) or updates
// what changed (updated_at moves only when something but the sync time
// did), then writes the history rows and raises and resolves the findings.
// Call it in a transaction that loaded Old with WithdrawerForUpdate.
func (s *Store) WithdrawerWrite(ctx context.Context, w WithdrawerWrite) (WriteResult, error) {
	now := s.Now()
	n := w.New
	if w.Old == nil {
		n.CreatedAt, n.UpdatedAt = now, now
		n.VerificationAt = n.VerificationAt.UTC().Truncate(time.Microsecond)
		ins := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(n)
		if ins.Error != nil {
			return WriteResult{}, fmt.Errorf("create withdrawer %s: %w", n.UserID, translate(ins.Error))
		}
		if ins.RowsAffected == 0 {
			// Another writer recorded it first: decide again from its row.
			return WriteResult{}, fmt.Errorf("create withdrawer %s: %w", n.UserID, ErrConflict)
		}
	} else {
		changed := withdrawerColumnsDiffering(w.Old, n)
		cols := withdrawerColumns(n)
		updates := map[string]any{}
		for _, col := range changed {
			updates[col] = cols[col]
		}
		if len(changed) > 0 {
			updates["updated_at"] = now
			n.UpdatedAt = now
		}
		if !sameTime(w.Old.LastSyncedAt, n.LastSyncedAt) {
			updates["last_synced_at"] = utcPtr(n.LastSyncedAt)
		}
		if len(updates) > 0 {
			err := s.db.WithContext(ctx).Model(&Withdrawer{}).Where("user_id = ?", n.UserID).UpdateColumns(updates).Error
			if err != nil {
				return WriteResult{}, fmt.Errorf("update withdrawer %s: %w", n.UserID, translate(err))
			}
		}
	}
	res, err := s.findingsApply(ctx, w.Raise, w.Resolve, w.RunID)
	if err != nil {
		return res, err
	}
	rows := slices.Clone(w.History)
	for i := range rows {
		rows[i].UserID = n.UserID
	}
	return res, s.WithdrawerHistoryInsert(ctx, rows)
}

// WithdrawerHistoryInsert writes history rows, of one withdrawer or of
// several (each row names its own), in one statement and in their order.
func (s *Store) WithdrawerHistoryInsert(ctx context.Context, rows []WithdrawerHistory) error {
	now := s.Now()
	for i := range rows {
		rows[i].EvidenceAt, rows[i].CreatedAt = rows[i].EvidenceAt.UTC().Truncate(time.Microsecond), now
	}
	return insertRows(ctx, s, rows, fmt.Sprintf("%d withdrawer history rows", len(rows)))
}

// WithdrawerForUpdate loads a withdrawer, locked until commit on
// PostgreSQL; nil (and no error) when it is not known.
func (s *Store) WithdrawerForUpdate(ctx context.Context, userID string) (*Withdrawer, error) {
	var ws []Withdrawer
	if err := s.forUpdate(s.db.WithContext(ctx)).Where("user_id = ?", userID).Limit(1).Find(&ws).Error; err != nil {
		return nil, fmt.Errorf("lock withdrawer %s: %w", userID, translate(err))
	}
	if len(ws) == 0 {
		return nil, nil
	}
	return &ws[0], nil
}
