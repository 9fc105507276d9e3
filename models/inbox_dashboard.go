package models

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// EventFilter narrows EventList. Empty fields do not filter; From is
// inclusive and To exclusive.
type EventFilter struct {
	Status      InboxStatus
	EventType   string
	Transaction string // SubjectTransaction
	UserID      string // SubjectUserID
	AuthMethod  string // AuthSignature or AuthAuthorization
	From, To    time.Time
	Page
}

// EventList returns stored webhooks newest first (by received_at, then id)
// without their bodies, and the cursor of the next page ("" on the last).
// Each filter column leads an index of migration 007 followed by
// (received_at, id), so a filtered page, first or deep, is an index range
// scan in the order asked for.
func (s *Store) EventList(ctx context.Context, f EventFilter) ([]InboxEvent, string, error) {
	q := s.db.WithContext(ctx).Model(&InboxEvent{}).Omit("body")
	for _, c := range [...]struct{ col, v string }{
		{"status", string(f.Status)}, {"event_type", f.EventType}, {"subject_transaction", f.Transaction},
		{"subject_user_id", f.UserID}, {"auth_method", f.AuthMethod},
	} {
		if c.v != "" {
			q = q.Where(c.col+" = ?", c.v)
		}
	}
	if !f.From.IsZero() {
		q = q.Where("received_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("received_at < ?", f.To.UTC())
	}
	return keysetPage(q, f.Page, "received_at", "inbox events", func(e *InboxEvent) (time.Time, string) {
		return e.ReceivedAt, strconv.FormatInt(e.ID, 10)
	})
}

// EventReplays returns the replays of event id, oldest first.
func (s *Store) EventReplays(ctx context.Context, id int64) ([]EventReplay, error) {
	var rs []EventReplay
	if err := s.db.WithContext(ctx).Where("inbox_event_id = ?", id).Order("id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("list replays of inbox event %d: %w", id, translate(err))
	}
	return rs, nil
}

// EventEffects is what one stored webhook changed: the history rows that
// name it (at most one of each, by the unique index on inbox_event_id).
type EventEffects struct {
	Payouts     []PayoutHistory
	Withdrawers []WithdrawerHistory
}

// EventEffects returns the payout and withdrawer history rows recorded for
// event id.
func (s *Store) EventEffects(ctx context.Context, id int64) (EventEffects, error) {
	var e EventEffects
	db := s.db.WithContext(ctx)
	if err := db.Where("inbox_event_id = ?", id).Order("id").Find(&e.Payouts).Error; err != nil {
		return e, fmt.Errorf("payout history of inbox event %d: %w", id, translate(err))
	}
	if err := db.Where("inbox_event_id = ?", id).Order("id").Find(&e.Withdrawers).Error; err != nil {
		return e, fmt.Errorf("withdrawer history of inbox event %d: %w", id, translate(err))
	}
	return e, nil
}

// Replay outcomes EventRequeue records.
const (
	ReplayRequeued  = "requeued"                   // pending again; the applier applies it
	ReplayUnchanged = "unchanged: already applied" // applied or ignored: deciding again changes nothing
	ReplayPruned    = "unchanged: body pruned"     // nothing left to apply
)

// EventRequeue records that by replayed event id and, in the same
// transaction, puts it back in the applier's queue: a parked, unprocessable
// or pending event becomes pending with no attempts, due now, and the
// applier applies it once (its history row per event is unique). An applied
// or ignored event is left as it is, and so is one whose body was pruned;
// the replay is recorded with the outcome, finished at once. ErrNotFound
// when there is no such event.
//
// The conditional UPDATE makes a race with the applier harmless: an event
// the applier finishes first is no longer requeueable and counts as
// already applied.
func (s *Store) EventRequeue(ctx context.Context, id int64, by string) (*EventReplay, error) {
	var r *EventReplay
	err := s.Tx(ctx, func(tx *Store) error {
		now := tx.Now()
		db := tx.db.WithContext(ctx)
		ev, err := first[InboxEvent](db.Omit("body").Where("id = ?", id), fmt.Sprintf("inbox event %d", id))
		if err != nil {
			return err
		}
		outcome := ReplayUnchanged
		if ev.BodyPrunedAt != nil && ev.Status != InboxApplied && ev.Status != InboxIgnored {
			outcome = ReplayPruned
		} else if ev.Status != InboxApplied && ev.Status != InboxIgnored {
			res := db.Model(&InboxEvent{}).Where("id = ? AND status IN ?", id, []InboxStatus{InboxParked, InboxUnprocessable, InboxPending}).
				Updates(map[string]any{"status": InboxPending, "attempts": 0, "next_attempt_at": now})
			if res.Error != nil {
				return fmt.Errorf("requeue inbox event %d: %w", id, translate(res.Error))
			}
			if res.RowsAffected == 1 {
				outcome = ReplayRequeued
			}
		}
		r = &EventReplay{InboxEventID: id, ReplayedBy: by, RequestedAt: now, Outcome: &outcome, FinishedAt: &now}
		if err := db.Create(r).Error; err != nil {
			return fmt.Errorf("record replay of inbox event %d: %w", id, translate(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}
