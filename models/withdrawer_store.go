package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm/clause"
)

// WithdrawerGet loads one withdrawer.
func (s *Store) WithdrawerGet(ctx context.Context, userID string) (*Withdrawer, error) {
	var w Withdrawer
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).First(&w).Error; err != nil {
		return nil, fmt.Errorf("get withdrawer %s: %w", userID, translate(err))
	}
	return &w, nil
}

// WithdrawerIdentity is what a KYC event says about who the withdrawer is.
type WithdrawerIdentity struct {
	UserID      string
	Wallet      string
	Blockchain  string
	EmailMasked string
}

// WithdrawerApply is the one place a withdrawer's verification changes: it
// creates the withdrawer on first sight, applies the evidence when it is the
// newest (VerificationNewer), and always writes a history row. Call it in a
// transaction.
func (s *Store) WithdrawerApply(ctx context.Context, id WithdrawerIdentity, ev WithdrawerEvidence, inboxEventID *int64) (bool, error) {
	now := s.Now()
	ev.At = ev.At.UTC()
	fresh := Withdrawer{
		UserID: id.UserID, Wallet: id.Wallet, Blockchain: id.Blockchain, EmailMasked: id.EmailMasked,
		VerificationStatus: "", VerificationAt: ev.At, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error; err != nil {
		return false, fmt.Errorf("create withdrawer %s: %w", id.UserID, translate(err))
	}
	var w Withdrawer
	if err := s.forUpdate(s.db.WithContext(ctx)).Where("user_id = ?", id.UserID).First(&w).Error; err != nil {
		return false, fmt.Errorf("lock withdrawer %s: %w", id.UserID, translate(err))
	}
	apply := VerificationNewer(w.VerificationStatus, w.VerificationAt, ev)
	reason := ReasonStale
	switch {
	case apply && w.VerificationStatus == "":
		reason = ReasonCreated
	case apply:
		reason = ReasonAdvanced
	case w.VerificationStatus == ev.Status:
		reason = ReasonSame
	}
	if apply {
		updates := map[string]any{"verification_status": ev.Status, "verification_at": ev.At, "updated_at": now}
		if id.Wallet != "" {
			updates["wallet"], updates["blockchain"] = id.Wallet, id.Blockchain
		}
		if id.EmailMasked != "" {
			updates["email_masked"] = id.EmailMasked
		}
		if err := s.db.WithContext(ctx).Model(&Withdrawer{}).Where("user_id = ?", id.UserID).Updates(updates).Error; err != nil {
			return false, fmt.Errorf("update withdrawer %s: %w", id.UserID, translate(err))
		}
	}
	h := WithdrawerHistory{
		UserID: id.UserID, FromStatus: nonEmpty(string(w.VerificationStatus)), ToStatus: string(ev.Status),
		Applied: apply, Reason: reason, Source: ev.Source, InboxEventID: inboxEventID, EvidenceAt: ev.At, CreatedAt: now,
	}
	if err := s.db.WithContext(ctx).Create(&h).Error; err != nil {
		return false, fmt.Errorf("write withdrawer history: %w", translate(err))
	}
	return apply, nil
}

// WithdrawerHistoryList returns a withdrawer's history, oldest first.
func (s *Store) WithdrawerHistoryList(ctx context.Context, userID string) ([]WithdrawerHistory, error) {
	var hs []WithdrawerHistory
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("list withdrawer history %s: %w", userID, translate(err))
	}
	return hs, nil
}

// WithdrawerSync records what Coinflow's withdrawer list says: the
// verification status (through WithdrawerApply, so history is written when
// it changes), the blocked flag and the sync time.
func (s *Store) WithdrawerSync(ctx context.Context, id WithdrawerIdentity, status VerificationStatus, blocked bool) (changed bool, err error) {
	now := s.Now()
	err = s.Tx(ctx, func(tx *Store) error {
		w, gerr := tx.WithdrawerGet(ctx, id.UserID)
		switch {
		case errors.Is(gerr, ErrNotFound):
			changed = true
		case gerr != nil:
			return gerr
		default:
			changed = w.VerificationStatus != status || w.Blocked != blocked
		}
		if gerr != nil || w.VerificationStatus != status {
			if _, err := tx.WithdrawerApply(ctx, id, WithdrawerEvidence{Status: status, At: now, Source: SourceReconcile}, nil); err != nil {
				return err
			}
		}
		// A sync is not a change: updated_at moves only when something did.
		updates := map[string]any{"blocked": blocked, "last_synced_at": now}
		if changed {
			updates["updated_at"] = now
		}
		return tx.db.WithContext(ctx).Model(&Withdrawer{}).Where("user_id = ?", id.UserID).
			UpdateColumns(updates).Error
	})
	if err != nil {
		return false, fmt.Errorf("sync withdrawer %s: %w", id.UserID, translate(err))
	}
	return changed, nil
}
