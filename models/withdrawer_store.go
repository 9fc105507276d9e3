package models

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// WithdrawerGet loads one withdrawer.
func (s *Store) WithdrawerGet(ctx context.Context, userID string) (*Withdrawer, error) {
	return first[Withdrawer](s.db.WithContext(ctx).Where("user_id = ?", userID), "withdrawer "+userID)
}

// WithdrawerHistoryList returns a withdrawer's history, oldest first.
func (s *Store) WithdrawerHistoryList(ctx context.Context, userID string) ([]WithdrawerHistory, error) {
	var hs []WithdrawerHistory
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&hs).Error; err != nil {
		return nil, fmt.Errorf("list withdrawer history %s: %w", userID, translate(err))
	}
	return hs, nil
}

// withdrawerBatch is how many withdrawers a scan holds at once.
const withdrawerBatch = 500

// WithdrawerEachPending calls fn for every withdrawer pending verification
// whose next check is due at or before due (or was never scheduled).
func (s *Store) WithdrawerEachPending(ctx context.Context, due time.Time, fn func(*Withdrawer) error) error {
	return s.withdrawerEach(ctx, "pending withdrawers", "verification_status = ? AND (next_check_at IS NULL OR next_check_at <= ?)",
		[]any{string(VerificationPending), due.UTC()}, fn)
}

// withdrawerEach calls fn for every withdrawer where cond holds, in user_id
// order, a batch at a time: memory stays one batch however many match, and
// no scan is open while fn runs, so fn may use the store.
func (s *Store) withdrawerEach(ctx context.Context, what, cond string, args []any, fn func(*Withdrawer) error) error {
	after := ""
	for {
		var batch []Withdrawer
		err := s.db.WithContext(ctx).Where(cond+" AND user_id > ?", append(slices.Clone(args), after)...).
			Order("user_id").Limit(withdrawerBatch).Find(&batch).Error
		if err != nil {
			return fmt.Errorf("list %s: %w", what, translate(err))
		}
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		if len(batch) < withdrawerBatch {
			return nil
		}
		after = batch[len(batch)-1].UserID
	}
}

// WithdrawerState is the part of a withdrawer Coinflow's list speaks to.
type WithdrawerState struct {
	Status  VerificationStatus
	Blocked bool
}

// WithdrawerStates returns what payoutd holds for each of userIDs that it
// knows.
func (s *Store) WithdrawerStates(ctx context.Context, userIDs []string) (map[string]WithdrawerState, error) {
	out := make(map[string]WithdrawerState, len(userIDs))
	for chunk := range slices.Chunk(userIDs, withdrawerBatch) {
		var rows []struct {
			UserID             string
			VerificationStatus string
			Blocked            bool
		}
		err := s.db.WithContext(ctx).Model(&Withdrawer{}).Select("user_id, verification_status, blocked").
			Where("user_id IN ?", chunk).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("read withdrawer states: %w", translate(err))
		}
		for _, r := range rows {
			out[r.UserID] = WithdrawerState{Status: VerificationStatus(r.VerificationStatus), Blocked: r.Blocked}
		}
	}
	return out, nil
}

// WithdrawerMarkSynced records that Coinflow's list, read at at, agreed
// with payoutd about userIDs.
func (s *Store) WithdrawerMarkSynced(ctx context.Context, userIDs []string, at time.Time) error {
	return s.withdrawersUpdate(ctx, userIDs, "mark withdrawers synced", map[string]any{"last_synced_at": at.UTC().Truncate(time.Microsecond)})
}

// WithdrawerScheduleMany sets the next check of userIDs to next.
func (s *Store) WithdrawerScheduleMany(ctx context.Context, userIDs []string, next time.Time) error {
	return s.withdrawersUpdate(ctx, userIDs, "schedule withdrawer checks", map[string]any{"next_check_at": next.UTC()})
}

func (s *Store) withdrawersUpdate(ctx context.Context, userIDs []string, what string, cols map[string]any) error {
	for chunk := range slices.Chunk(userIDs, withdrawerBatch) {
		if err := s.db.WithContext(ctx).Model(&Withdrawer{}).Where("user_id IN ?", chunk).UpdateColumns(cols).Error; err != nil {
			return fmt.Errorf("%s: %w", what, translate(err))
		}
	}
	return nil
}

// WithdrawerCountPending counts the withdrawers pending verification.
func (s *Store) WithdrawerCountPending(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&Withdrawer{}).Where("verification_status = ?", string(VerificationPending)).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count pending withdrawers: %w", translate(err))
	}
	return n, nil
}

// WithdrawerScheduleCheck records when a pending withdrawer is next asked
// about and how many times it has been.
func (s *Store) WithdrawerScheduleCheck(ctx context.Context, userID string, next time.Time, checks int) error {
	err := s.db.WithContext(ctx).Model(&Withdrawer{}).Where("user_id = ?", userID).
		UpdateColumns(map[string]any{"next_check_at": next.UTC(), "checks": checks}).Error
	if err != nil {
		return fmt.Errorf("schedule check of withdrawer %s: %w", userID, translate(err))
	}
	return nil
}

// WithdrawerEachStalled calls fn for every withdrawer pending verification
// since before before.
func (s *Store) WithdrawerEachStalled(ctx context.Context, before time.Time, fn func(*Withdrawer) error) error {
	return s.withdrawerEach(ctx, "stalled withdrawers", "verification_status = ? AND verification_at < ?",
		[]any{string(VerificationPending), before.UTC()}, fn)
}

// WithdrawerAnyPendingDue reports whether some withdrawer pending
// verification is due for a check at due (or was never scheduled).
func (s *Store) WithdrawerAnyPendingDue(ctx context.Context, due time.Time) (bool, error) {
	var ws []Withdrawer
	err := s.db.WithContext(ctx).Select("user_id").
		Where("verification_status = ? AND (next_check_at IS NULL OR next_check_at <= ?)", string(VerificationPending), due.UTC()).
		Limit(1).Find(&ws).Error
	if err != nil {
		return false, fmt.Errorf("look for pending withdrawers due: %w", translate(err))
	}
	return len(ws) > 0, nil
}
