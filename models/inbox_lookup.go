package models

import (
	"context"
	"fmt"
)

// The reconciler's webhook_undelivered check asks whether payoutd holds an
// event that Coinflow's webhook activity says was never delivered.

// InboxHeldKeys returns which of keys (dedup keys) are stored. A stored
// event whose body retention has pruned still counts: its key is kept.
func (s *Store) InboxHeldKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	held := make(map[string]bool, len(keys))
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), 500)]
		keys = keys[len(chunk):]
		var found []string
		err := s.db.WithContext(ctx).Model(&InboxEvent{}).Where("dedup_key IN ?", chunk).Pluck("dedup_key", &found).Error
		if err != nil {
			return nil, fmt.Errorf("look up %d dedup keys: %w", len(chunk), translate(err))
		}
		for _, k := range found {
			held[k] = true
		}
	}
	return held, nil
}

// InboxHoldsSubject reports whether an event of eventType is stored for the
// withdrawal transaction or, when transaction is "", for userID: Coinflow's
// own rule for telling deliveries apart when all one has is the event's
// data (README 8.6: eventType with data.signature, or with the KYC wallet,
// whose user is what payoutd records).
func (s *Store) InboxHoldsSubject(ctx context.Context, eventType, transaction, userID string) (bool, error) {
	q := s.db.WithContext(ctx).Model(&InboxEvent{}).Select("1").Where("event_type = ?", eventType)
	switch {
	case transaction != "":
		q = q.Where("subject_transaction = ?", transaction)
	case userID != "":
		q = q.Where("subject_user_id = ?", userID)
	default:
		return false, nil
	}
	var one []int
	if err := q.Limit(1).Pluck("1", &one).Error; err != nil {
		return false, fmt.Errorf("look up a %s event for %q/%q: %w", eventType, transaction, userID, translate(err))
	}
	return len(one) > 0, nil
}

// FindingListUnresolvedOfKind returns the unresolved findings of kind,
// oldest first.
func (s *Store) FindingListUnresolvedOfKind(ctx context.Context, kind FindingKind) ([]Finding, error) {
	var fs []Finding
	if err := s.db.WithContext(ctx).Where("kind = ? AND resolved_at IS NULL", kind).Order("first_seen_at, id").Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("list unresolved %s findings: %w", kind, translate(err))
	}
	return fs, nil
}
