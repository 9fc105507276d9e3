package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// InboxFilter narrows InboxList and InboxEachID. Empty fields do not filter.
// Each filter is served by a migration-007 index on (column, received_at,
// id), so a page is an index range scan newest first.
type InboxFilter struct {
	Statuses    []InboxStatus
	EventType   string
	Transaction string    // subject_transaction
	UserID      string    // subject_user_id
	AuthMethod  string    // AuthSignature or AuthAuthorization
	From, To    time.Time // received_at in [From, To)
	Page
}

// InboxStatusValid reports whether s is an inbox status.
func InboxStatusValid(s string) bool {
	switch InboxStatus(s) {
	case InboxPending, InboxApplied, InboxIgnored, InboxUnprocessable, InboxParked:
		return true
	}
	return false
}

// inboxListColumns are every column but the body: a list never shows it,
// and bodies may be large.
var inboxListColumns = []string{
	"id", "dedup_key", "event_type", "received_at", "status", "attempts", "next_attempt_at", "last_error",
	"processed_at", "content_hash", "conflicts_with", "auth_method", "auth_key", "subject_transaction",
	"subject_user_id", "body_pruned_at",
}

func (s *Store) inboxFiltered(ctx context.Context, f InboxFilter) *gorm.DB {
	q := s.db.WithContext(ctx).Model(&InboxEvent{})
	switch len(f.Statuses) {
	case 0:
	case 1:
		q = q.Where("status = ?", f.Statuses[0])
	default:
		q = q.Where("status IN ?", f.Statuses)
	}
	for _, c := range [...]struct{ col, v string }{
		{"event_type", f.EventType}, {"subject_transaction", f.Transaction}, {"subject_user_id", f.UserID}, {"auth_method", f.AuthMethod},
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
	return q
}

// InboxList returns stored events without their bodies, newest received
// first, and the cursor of the next page ("" on the last page).
func (s *Store) InboxList(ctx context.Context, f InboxFilter) ([]InboxEvent, string, error) {
	q := s.inboxFiltered(ctx, f).Select(inboxListColumns)
	return keysetPage(q, f.Page, "received_at", "inbox events", func(ev *InboxEvent) (time.Time, string) {
		return ev.ReceivedAt, fmt.Sprint(ev.ID)
	})
}

// InboxBodies loads the bodies of the given events, by id.
func (s *Store) InboxBodies(ctx context.Context, ids []int64) (map[int64][]byte, error) {
	out := map[int64][]byte{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []InboxEvent
	if err := s.db.WithContext(ctx).Select("id", "body").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load %d inbox bodies: %w", len(ids), translate(err))
	}
	for _, r := range rows {
		out[r.ID] = r.Body
	}
	return out, nil
}

// InboxEachID calls fn with the id of each event f selects, oldest first
// (f.Page is ignored). The ids are read before fn runs, so fn may use the
// store (on SQLite a scan would hold the one connection).
func (s *Store) InboxEachID(ctx context.Context, f InboxFilter, fn func(id int64) error) error {
	var after int64
	for {
		var ids []int64
		err := s.inboxFiltered(ctx, f).Where("id > ?", after).Order("id").Limit(1000).Pluck("id", &ids).Error
		if err != nil {
			return fmt.Errorf("select inbox events: %w", translate(err))
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
		}
		if len(ids) < 1000 {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// InboxLock loads event id and, on PostgreSQL, locks its row until the
// transaction ends, so that replays of one event (and the applier, whose
// claim skips locked rows) take it one at a time. Call it in Tx.
func (s *Store) InboxLock(ctx context.Context, id int64) (*InboxEvent, error) {
	return first[InboxEvent](s.forUpdate(s.db.WithContext(ctx)).Where("id = ?", id), fmt.Sprintf("inbox event %d", id))
}

// InboxRequeue makes event id pending again, due now, with its attempts
// reset: the applier (or a replay, in the same transaction) takes it next.
func (s *Store) InboxRequeue(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Model(&InboxEvent{}).Where("id = ?", id).Updates(map[string]any{
		"status": InboxPending, "attempts": 0, "next_attempt_at": s.Now(), "processed_at": nil, "last_error": nil,
	})
	if res.Error != nil {
		return fmt.Errorf("requeue inbox event %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("requeue inbox event %d: %w", id, ErrNotFound)
	}
	return nil
}

// EventReplayStart records that by asked to replay event id, now.
func (s *Store) EventReplayStart(ctx context.Context, id int64, by string) (*EventReplay, error) {
	r := &EventReplay{InboxEventID: id, ReplayedBy: by, RequestedAt: s.Now()}
	if err := s.db.WithContext(ctx).Create(r).Error; err != nil {
		return nil, fmt.Errorf("record replay of inbox event %d: %w", id, translate(err))
	}
	return r, nil
}

// EventReplayFinish records what replay r did.
func (s *Store) EventReplayFinish(ctx context.Context, r *EventReplay, outcome string) error {
	now := s.Now()
	r.Outcome, r.FinishedAt = &outcome, &now
	err := s.db.WithContext(ctx).Model(r).Updates(map[string]any{"outcome": outcome, "finished_at": now}).Error
	if err != nil {
		return fmt.Errorf("finish replay %d: %w", r.ID, translate(err))
	}
	return nil
}

// EventReplayList returns the replays of event id, oldest first.
func (s *Store) EventReplayList(ctx context.Context, id int64) ([]EventReplay, error) {
	var rs []EventReplay
	if err := s.db.WithContext(ctx).Where("inbox_event_id = ?", id).Order("id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("list replays of inbox event %d: %w", id, translate(err))
	}
	return rs, nil
}

// InboxEffects are the history rows event id wrote: at most one payout row
// and one withdrawer row (history rows are unique per inbox event).
type InboxEffects struct {
	Payouts     []PayoutHistory
	Withdrawers []WithdrawerHistory
}

// InboxEffectsOf loads what event id changed.
func (s *Store) InboxEffectsOf(ctx context.Context, id int64) (InboxEffects, error) {
	var e InboxEffects
	if err := s.db.WithContext(ctx).Where("inbox_event_id = ?", id).Order("id").Find(&e.Payouts).Error; err != nil {
		return e, fmt.Errorf("payout history of inbox event %d: %w", id, translate(err))
	}
	if err := s.db.WithContext(ctx).Where("inbox_event_id = ?", id).Order("id").Find(&e.Withdrawers).Error; err != nil {
		return e, fmt.Errorf("withdrawer history of inbox event %d: %w", id, translate(err))
	}
	return e, nil
}
